/**
 * Debian's docker-registry (the distribution registry) for a test: its own
 * config with filesystem storage under dir, listening on a free loopback
 * port, its log in dir/registry.log; resolves once /v2/ answers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { freePort } from '../../helpers.js'

export interface DockerRegistry {
  /** `127.0.0.1:PORT` */
  host: string
  storage: string
  process: ChildProcess
  stop(): void
}

export async function startDockerRegistry(dir: string, opts: { deletes?: boolean } = {}): Promise<DockerRegistry> {
  const host = `127.0.0.1:${await freePort()}`
  const storage = path.join(dir, 'storage')
  await fsp.mkdir(dir, { recursive: true })
  const cfg = path.join(dir, 'config.yml')
  await fsp.writeFile(cfg, [
    'version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${storage}`,
    ...(opts.deletes ? ['  delete:', '    enabled: true'] : []),
    'http:', `  addr: ${host}`, '',
  ].join('\n'))
  const log = await fsp.open(path.join(dir, 'registry.log'), 'w')
  const proc = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', log.fd, log.fd] })
  await log.close()
  for (let i = 0; ; i++) {
    const r = await fetch(`http://${host}/v2/`).catch(() => undefined)
    if (r?.ok) break
    if (i > 100 || proc.exitCode !== null) {
      proc.kill('SIGTERM')
      throw new Error(`docker-registry did not start: ${await fsp.readFile(path.join(dir, 'registry.log'), 'utf8').catch(() => '')}`)
    }
    await new Promise((res) => setTimeout(res, 100))
  }
  return { host, storage, process: proc, stop: () => void proc.kill('SIGTERM') }
}
