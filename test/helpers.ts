/**
 * Shared by integration and e2e tests: run the berth and docker CLIs against
 * the test daemon, name resources after the test, declare requirements.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterAll, expect, inject } from 'vitest'

export const repo = path.resolve(import.meta.dirname, '..')
export const berthBin = path.join(repo, 'bin/berth')
export const dockerBin = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p))

export function sock(): string {
  return inject('berthSock')
}

export interface CmdResult {
  code: number
  stdout: string
  stderr: string
}

export interface CmdOptions {
  input?: string | Buffer
  env?: Record<string, string>
  timeoutMs?: number
}

function runCmd(bin: string, args: string[], env: Record<string, string>, o: CmdOptions): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() })
    })
    // A command that exits before reading its input must not fail the run with EPIPE.
    child.stdin.on('error', () => {})
    child.stdin.end(o.input ?? '')
  })
}

/** The berth CLI against the test daemon. */
export function berth(args: string[], o: CmdOptions = {}): Promise<CmdResult> {
  return runCmd(berthBin, args, { BERTH_HOST: `unix://${sock()}` }, o)
}

/** The real docker CLI against the test daemon. */
export function docker(args: string[], o: CmdOptions = {}): Promise<CmdResult> {
  if (!dockerBin) throw new Error('docker CLI not installed')
  return runCmd(dockerBin, args, { DOCKER_HOST: `unix://${sock()}`, DOCKER_CONFIG: '/tmp/berth-test-docker-config' }, o)
}

/** Fails the test with the command's output when it did not exit as expected. */
export function ok(r: CmdResult, code = 0): CmdResult {
  if (r.code !== code) throw new Error(`exit ${r.code} (wanted ${code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r
}

const available: Record<string, () => string | undefined> = {
  root: () => (process.getuid?.() === 0 ? undefined : 'needs root'),
  daemon: () => inject('berthUnavailable') || undefined,
  'docker-cli': () => (dockerBin ? undefined : 'the docker CLI is not installed'),
  crun: () => (spawnSync('crun', ['--version']).status === 0 ? undefined : 'crun is not installed'),
}

/** Why the requirements are not met, or undefined. Use with describe.skipIf and print the reason. */
export function missing(...needs: Array<keyof typeof available>): string | undefined {
  for (const n of needs) {
    const why = available[n]?.()
    if (why) {
      console.warn(`skipping: ${why}`)
      return why
    }
  }
  return undefined
}

/**
 * Container names for one describe block: unique to this run, and every
 * container so named is force-removed after the block.
 */
export function containerNames(): (prefix: string) => string {
  const made: string[] = []
  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', ...made])
  })
  return (prefix) => {
    const n = uniq(prefix)
    made.push(n)
    return n
  }
}

/** A name unique to this test run, for containers and images. */
export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
}

export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for registries the tests start). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}

export type Bcrypt = { hashSync(p: string, rounds: number): string }

/** bcryptjs for htpasswd files, or null: it is optional, as for the registry server itself (hence the variable specifier). */
export async function loadBcrypt(): Promise<Bcrypt | null> {
  const specifier = 'bcryptjs'
  try {
    const mod = (await import(specifier)) as Partial<Bcrypt> & { default?: Bcrypt }
    return mod.hashSync ? (mod as Bcrypt) : (mod.default ?? null)
  } catch {
    return null
  }
}

/** The program's name (docker or berth, in usage errors and help) as PROG: the one thing the two CLIs may print differently. */
export function withoutProgName(r: CmdResult): CmdResult {
  const n = (s: string): string => s.replace(/\b(docker|berth)\b/gi, 'PROG')
  return { code: r.code, stdout: n(r.stdout), stderr: n(r.stderr) }
}

/** The same arguments through the docker CLI and berth: exit code and output must agree but for the program's name. Returns docker's result. */
export async function sameAsDocker(args: string[]): Promise<CmdResult> {
  const d = await docker(args)
  const b = await berth(args)
  expect(withoutProgName(b), args.join(' ')).toEqual(withoutProgName(d))
  return d
}

/** docker's 8-byte-header stdcopy frames as (stream, text) pairs. */
export function stdcopyFrames(buf: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = []
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4)
    out.push([buf[i] ?? -1, buf.subarray(i + 8, i + 8 + size).toString()])
    i += 8 + size
  }
  return out
}
