/**
 * One OCI runtime binary (runc, crun, runsc) driven through its CLI, which is
 * the only interface they share. Every call names a private state root under
 * berth's exec root, so berth never sees or touches other engines' containers.
 */
import { promises as fsp } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { run, type Logger } from '../lib/index.js'
import { conflict, internal, notFound } from '../errors/index.js'

export interface RuntimeConfig {
  /** The binary: /usr/bin/runc, crun, runsc. */
  path: string
  /** Global flags placed before the command (e.g. runsc's `--platform=ptrace`). */
  args?: string[]
  /**
   * Run `create` in a private mount namespace with /sys/fs/cgroup/unified
   * unmounted. crun 1.8 refuses hybrid cgroup hosts otherwise. Default: on
   * for a binary named crun when the host is hybrid.
   */
  hideCgroup2?: boolean
}

export type RuntimeStatus = 'created' | 'running' | 'stopped' | 'paused'

export interface RuntimeState {
  id: string
  pid: number
  status: RuntimeStatus
  bundle: string
}

/** Where hideCgroup2 mounts live; the shell runs only for `create`. */
const unifiedMount = '/sys/fs/cgroup/unified'

export class OciCli {
  readonly name: string
  readonly root: string
  private readonly cfg: RuntimeConfig
  private readonly hide: boolean
  private readonly log: Logger

  constructor(o: { name: string; cfg: RuntimeConfig; root: string; hideCgroup2: boolean; logger: Logger }) {
    this.name = o.name
    this.cfg = o.cfg
    this.root = o.root
    this.hide = o.hideCgroup2
    this.log = o.logger
  }

  /** Global args every invocation starts with. */
  private globalArgs(): string[] {
    return [...(this.cfg.args ?? []), '--root', this.root]
  }

  /**
   * Program and leading args for conmon's `-r` and `--runtime-arg`s. conmon
   * puts runtime args right after the program, so for crun on a hybrid host
   * the program is unshare(1) running a one-line shell that unmounts the
   * cgroup2 mount in its throwaway namespace and execs the runtime: the
   * namespace dies with `create`, nothing on the host changes, and the
   * container's own mount namespace is built from that copy.
   */
  conmonRuntime(op: 'create' | 'exec'): { path: string; args: string[] } {
    if (op === 'create' && this.hide) {
      return {
        path: '/usr/bin/unshare',
        args: ['--mount', '--propagation', 'private', '/bin/sh', '-c', `umount ${unifiedMount} && exec "$0" "$@"`, this.cfg.path, ...this.globalArgs()],
      }
    }
    return { path: this.cfg.path, args: this.globalArgs() }
  }

  private async call(args: string[], what: string, id: string): Promise<string> {
    const t0 = performance.now()
    const res = await run(this.cfg.path, [...this.globalArgs(), ...args], { check: false })
    this.log.debug('runtime call', { runtime: this.name, args, code: res.code, ms: Math.round(performance.now() - t0) })
    if (res.code !== 0) throw runtimeError(what, id, cleanRuntimeMessage(res.stderr || res.stdout))
    return res.stdout
  }

  async start(id: string): Promise<void> {
    await this.call(['start', id], 'start', id)
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    await this.call(['kill', ...(all ? ['--all'] : []), id, signal], 'kill', id)
  }

  async delete(id: string, force: boolean): Promise<void> {
    await this.call(['delete', ...(force ? ['--force'] : []), id], 'delete', id)
  }

  async pause(id: string): Promise<void> {
    await this.call(['pause', id], 'pause', id)
  }

  async resume(id: string): Promise<void> {
    await this.call(['resume', id], 'resume', id)
  }

  /** `update --resources FILE`: new cgroup limits for a running container (runc and crun take the OCI LinuxResources JSON). */
  async update(id: string, resources: unknown): Promise<void> {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-update-'))
    try {
      const file = path.join(dir, 'resources.json')
      await fsp.writeFile(file, JSON.stringify(resources), { mode: 0o600 })
      await this.call(['update', '--resources', file, id], 'update', id)
    } finally {
      await fsp.rm(dir, { recursive: true, force: true })
    }
  }

  async state(id: string): Promise<RuntimeState> {
    const out = await this.call(['state', id], 'state', id)
    let parsed: unknown
    try {
      parsed = JSON.parse(out)
    } catch (err) {
      throw internal(`${this.name} state ${id}: unparsable output`, err)
    }
    const s = parsed as Record<string, unknown>
    const status = String(s.status)
    return {
      id: String(s.id),
      pid: typeof s.pid === 'number' ? s.pid : 0,
      status: (['created', 'running', 'stopped', 'paused'].includes(status) ? status : 'stopped') as RuntimeStatus,
      bundle: typeof s.bundle === 'string' ? s.bundle : '',
    }
  }

  get binary(): string {
    return path.basename(this.cfg.path)
  }
}

/** runc logs `time=... level=error msg="..."`; crun writes the bare message. Keep just the message. */
export function cleanRuntimeMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean)
  const msgs = lines.map((l) => {
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(l)
    return m ? m[1]!.replace(/\\(.)/g, '$1') : l.startsWith('time=') ? '' : l
  })
  return sameWordsAsRunc(msgs.filter(Boolean).join('; ') || stderr.trim())
}

/**
 * crun words start failures its own way; clients (the docker CLI among them)
 * read exit codes 127/126 out of runc's words, so say it as runc does.
 */
export function sameWordsAsRunc(msg: string): string {
  return msg
    .replace(/executable file `([^`]*)` not found in \$PATH: No such file or directory/g, 'exec: "$1": executable file not found in $PATH')
    .replace(/open executable: Permission denied/g, 'exec: permission denied')
}

const missing = /does not exist|not found|no such file or directory|cannot open directory/i

export function runtimeError(what: string, id: string, msg: string): Error {
  if (/container .*does not exist|cannot open directory .*: No such file|error opening file .*status/i.test(msg)) {
    return notFound(`container ${id} does not exist in the runtime`)
  }
  if (/not running|is not in .*state|container .*is stopped|cannot (kill|pause|resume)|paused|is running|already exists/i.test(msg) && what !== 'state') {
    return conflict(`${what} ${id}: ${msg}`)
  }
  if (missing.test(msg) && what === 'state') return notFound(`container ${id} does not exist in the runtime`)
  return internal(`runtime ${what} ${id}: ${msg}`)
}

/** docker maps these runtime messages to exit codes in the CLI (cli/command/container/run.go). */
export function startErrorCode(msg: string): number {
  if (/executable file not found|no such file or directory|not found in \$PATH/i.test(msg)) return 127
  if (/permission denied|not a directory|exec format error|is a directory/i.test(msg)) return 126
  return 125
}
