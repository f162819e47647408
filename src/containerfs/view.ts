/**
 * A container's files as docker cp sees them (moby's openContainerFS): the
 * rootfs mount with the container's volumes, binds and /etc files bound at
 * their places, in a mount namespace of its own. Node cannot unshare or
 * chroot, so a small helper process (unshare(1) running sh) owns the
 * namespace and makes each bind when asked; berthd reaches the result
 * through /proc/<helper>/root. Every path in it is walked through directory
 * descriptors with the container's root as `/` (builder's RootDir), binds
 * included (mount(8) is given /proc/<berthd>/fd/N, not a path to walk
 * again), so a container swapping a directory for a symlink meanwhile
 * cannot lead anything out. Nothing of it shows on the host, and nothing
 * outlives berthd: the helper ends when its stdin closes, and the namespace
 * with it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { constants, promises as fsp } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import { RootDir } from '../builder/index.js'
import type { FsMount } from '../containers/index.js'
import { internal } from '../errors/index.js'

/**
 * Reads (operation, source, target) line triples, answering `ok` or `fail`:
 * `bind` binds source on target, `ro` makes the mount at target read-only
 * (a second call: given a descriptor path, mount's own remount would find
 * the directory under the new mount). Targets are descriptor paths, so
 * mount must not canonicalize them back into paths.
 */
const HELPER_SCRIPT = `
echo ready
while IFS= read -r op && IFS= read -r src && IFS= read -r dst; do
  case "$op" in
    bind) mount --no-canonicalize --rbind -- "$src" "$dst" ;;
    ro) mount --no-canonicalize -o remount,bind,ro -- "$dst" ;;
    *) false ;;
  esac && echo ok || echo fail
done
`

const FILE_FLAGS = constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW
const DIR_MODE = 0o755

export class FsView {
  private constructor(
    private readonly child: ChildProcess,
    /** The container's `/` as berthd reaches it (under the helper's `/proc/<pid>/root`). */
    readonly root: string,
    /** The same, walked by descriptors. */
    readonly dir: RootDir,
  ) {}

  /** Open a view of rootfs (mounted) with the mounts bound in it, shallowest first. */
  static async open(rootfs: string, mounts: readonly FsMount[]): Promise<FsView> {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', HELPER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] })
    const stderr: Buffer[] = []
    child.stderr?.on('data', (b: Buffer) => { if (stderr.length < 64) stderr.push(b) })
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
    const failed = new Promise<never>((_, reject) => {
      child.on('error', (err) => reject(internal(`container filesystem view: ${err.message}`, err)))
      child.on('exit', (code) => reject(internal(`container filesystem view: helper exited (${code}): ${Buffer.concat(stderr).toString().trim()}`)))
    })
    failed.catch(() => {})
    const stdin = child.stdin as Writable
    stdin.on('error', () => {})
    const root = path.join(`/proc/${child.pid}/root`, rootfs)
    let dir: RootDir | undefined
    try {
      // Only once it runs in its own namespace does /proc/<pid>/root lead there.
      const hello = await Promise.race([lines.next(), failed])
      if (hello.done || hello.value !== 'ready') throw internal(`container filesystem view: helper did not start: ${Buffer.concat(stderr).toString().trim()}`)
      dir = await RootDir.open(root)
      const ask = async (op: string, src: string, dst: string, what: string) => {
        stdin.write(`${op}\n${src}\n${dst}\n`)
        const answer = await Promise.race([lines.next(), failed])
        if (answer.done || answer.value !== 'ok') throw internal(`binding ${what} for a copy: ${Buffer.concat(stderr).toString().trim()}`)
      }
      for (const m of mounts) {
        const st = await fsp.stat(m.source).catch(() => undefined)
        // A bind whose source went away (docker refuses to start such a container) shows the rootfs there.
        if (!st) continue
        if (/[\n\0]/.test(m.source)) throw internal(`mount source ${JSON.stringify(m.source)} cannot be bound`)
        // moby's GetResourcePath and CreateIfNotExists: symlinks followed inside the container, a missing target made.
        const dest = await dir.resolve(m.destination)
        await withTarget(dir, dest, st.isDirectory(), (t) => ask('bind', m.source, t, m.destination))
        if (m.readonly) await withTarget(dir, dest, st.isDirectory(), (t) => ask('ro', '', t, m.destination))
      }
    } catch (err) {
      await dir?.close()
      child.stdin?.end()
      throw err
    }
    return new FsView(child, root, dir)
  }

  /** Ends the helper; its namespace and every bind in it go. */
  async close(): Promise<void> {
    await this.dir.close().catch(() => {})
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()))
    this.child.stdin?.end()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

/**
 * Run fn with a descriptor path (/proc/<berthd>/fd/N, for the helper) of the
 * directory, or file, at dest, made if missing (moby's CreateIfNotExists).
 */
async function withTarget(root: RootDir, dest: string, isDir: boolean, fn: (target: string) => Promise<void>): Promise<void> {
  if (isDir) {
    const d = await root.openDir(dest, { mkdir: DIR_MODE })
    try {
      await fn(d.procPath)
    } finally {
      await d.close()
    }
    return
  }
  const { dir, name } = await root.openParent(dest, { mkdir: DIR_MODE })
  try {
    const fh = await fsp.open(`${dir.path}/${name}`, FILE_FLAGS, DIR_MODE)
    try {
      await fn(`/proc/${process.pid}/fd/${fh.fd}`)
    } finally {
      await fh.close()
    }
  } finally {
    await dir.close()
  }
}
