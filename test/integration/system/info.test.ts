/**
 * `info` through berth and docker against the shared berthd: the server
 * fields docker prints are there with what this host and daemon have
 * (storage facts from the kernel's overlay parameters and the data root's
 * filesystem), and both CLIs print the server section alike.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, inject, it } from 'vitest'
import { backingFilesystem } from '../../../src/daemon/storage-info.js'
import { berth, docker, dockerBin, missing, ok, type CmdResult } from '../../helpers.js'

const skip = missing('root', 'daemon')

/** A kernel overlay module parameter (Y/N), or undefined where the module does not show it. */
function overlayParam(name: string): string | undefined {
  try {
    return readFileSync(`/sys/module/overlay/parameters/${name}`, 'utf8').trim()
  } catch {
    return undefined
  }
}

describe.skipIf(skip)('info', () => {
  const server = (r: CmdResult) => r.stdout.slice(r.stdout.indexOf('\nServer:\n'))

  it('shows docker’s server fields with this daemon’s values', async () => {
    const out = server(ok(await berth(['info'])))
    const dataRoot = inject('berthDataRoot')
    const fs = await backingFilesystem(`${dataRoot}/overlay2`)
    const runtime = process.env.BERTH_TEST_RUNTIME ?? 'runc'
    for (const line of [
      /\n Containers: \d+\n {2}Running: \d+\n {2}Paused: \d+\n {2}Stopped: \d+\n Images: \d+\n Server Version: \S+\n/,
      new RegExp(`\n Storage Driver: overlay2\n {2}Backing Filesystem: ${fs}\n {2}Supports d_type: true\n {2}Using metacopy: (true|false)\n {2}Native Overlay Diff: (true|false)\n {2}userxattr: false\n`),
      /\n Logging Driver: \S+\n Cgroup Driver: cgroupfs\n Cgroup Version: [12]\n/,
      new RegExp(`\n Runtimes: (\\S+ )*${runtime}( \\S+)*\n Default Runtime: ${runtime}\n`),
      new RegExp(`\n Docker Root Dir: ${dataRoot}\n`),
      /\n Insecure Registries:\n {2}::1\/128\n {2}127\.0\.0\.0\/8\n/,
      /\n Live Restore Enabled: true\n\n$/,
    ]) expect(out).toMatch(line)
    // What the kernel does by default is what the daemon found (berth mounts overlays without options).
    if (overlayParam('metacopy')) expect(out).toContain(`Using metacopy: ${overlayParam('metacopy') === 'Y'}\n`)
    if (overlayParam('redirect_dir')) expect(out).toContain(`Native Overlay Diff: ${overlayParam('redirect_dir') !== 'Y'}\n`)
    const registry = ok(await berth(['info', '--format', '{{.IndexServerAddress}} {{.LoggingDriver}} {{.LiveRestoreEnabled}}'])).stdout
    expect(registry).toMatch(/^https:\/\/index\.docker\.io\/v1\/ \S+ true\n$/)
  })

  it.skipIf(!dockerBin)('prints the server section as docker does', async () => {
    // Other files create and remove containers and images meanwhile: their counts are masked.
    // docker's CLI lists the runtimes in Go's map order, which changes from run to run.
    const mask = (r: CmdResult) => server(r).replace(/(Containers|Running|Paused|Stopped|Images): \d+/g, '$1: N')
      .replace(/^( Runtimes:) (.*)$/m, (_, k: string, v: string) => `${k} ${v.split(' ').sort().join(' ')}`)
    const d = ok(await docker(['info']))
    const b = ok(await berth(['info']))
    expect(mask(b)).toBe(mask(d))
    expect(b.stderr).toBe(d.stderr)
  })
})
