/**
 * `berth cp` and `berth export`, as docker 28's (docker/cli
 * cli/command/container/cp.go and export.go): the local half of a copy
 * follows moby/go-archive's rules (../copy/), the container half is the
 * archive API (HEAD, GET and PUT /containers/{id}/archive).
 */
import type { Readable } from 'node:stream'
import type { ContainerPathStat } from '../../api/types/index.js'
import type { EngineClient } from '../../client/index.js'
import { GO_MODE, goModeHas, goModeIsDir } from '../../lib/index.js'
import type { Handler } from '../app.js'
import { bool, err, getClient, str } from '../context.js'
import {
  archiveForCopy, AtomicFileWriter, ByteCount, copyInfoSourcePath, copyTo, CopyError, getRebaseName,
  goJoin, readEntries, rebaseEntries, resolveLocalPath, splitCpArg, splitPathDirEntry, successLine, tarStream,
  validateOutputPath, type CopyInfo,
} from '../copy/index.js'

interface CpConfig {
  followLink: boolean
  copyUIDGID: boolean
  quiet: boolean
  sourcePath: string
  destPath: string
  container: string
}

/** The docker client's trimID: a blank container is refused before any request. */
function containerId(c: string): string {
  const id = c.trim()
  if (id === '') throw new CopyError('invalid container name or ID: value is empty')
  return id
}

/** What is at path in the container, or undefined: docker goes on without it (the transfer then tells). */
async function tryStat(client: EngineClient, container: string, p: string): Promise<ContainerPathStat | undefined> {
  try {
    return await client.containerStatPath(containerId(container), p)
  } catch {
    return undefined
  }
}

/** Ctrl-C cancels the transfer, as docker's signal.NotifyContext does; docker then exits quietly. */
function interruptible(): { signal: AbortSignal; interrupted: () => boolean; dispose: () => void } {
  const ac = new AbortController()
  const onInt = (): void => ac.abort()
  process.on('SIGINT', onInt)
  return { signal: ac.signal, interrupted: () => ac.signal.aborted, dispose: () => { process.off('SIGINT', onInt) } }
}

/** src written to stdout, waiting for the pipe to drain (a reader gone away ends the CLI: cmd/berth.ts). */
async function toStdout(src: AsyncIterable<Buffer>): Promise<void> {
  const out = process.stdout
  let failed: Error | undefined
  let wake: (() => void) | undefined
  const onError = (e: Error): void => {
    failed = e
    wake?.()
  }
  const onDrain = (): void => wake?.()
  out.on('error', onError)
  out.on('drain', onDrain)
  try {
    for await (const c of src) {
      if (failed) throw failed
      // 'drain' comes on a later tick, so the waiter is in place before it can fire.
      if (!out.write(c)) await new Promise<void>((resolve) => { wake = resolve })
      wake = undefined
    }
    if (failed) throw failed
  } finally {
    out.off('error', onError)
    out.off('drain', onDrain)
  }
}

/** ValidateOutputPathFileMode on a container path's Go FileMode. */
export function fileModeProblem(mode: number): string | undefined {
  if (goModeHas(mode, GO_MODE.device)) return 'got a device'
  if (goModeHas(mode, GO_MODE.irregular)) return 'got an irregular file'
  return undefined
}

async function copyFromContainer(client: EngineClient, cfg: CpConfig): Promise<number | void> {
  let dstPath = cfg.destPath
  let srcPath = cfg.sourcePath
  if (dstPath !== '-') dstPath = resolveLocalPath(dstPath)
  await validateOutputPath(dstPath)

  // With -L a symlink source is replaced by its target, copied under the link's name.
  let rebaseName = ''
  if (cfg.followLink) {
    const st = await tryStat(client, cfg.container, srcPath)
    if (st && goModeHas(st.mode, GO_MODE.symlink)) {
      let target = st.linkTarget
      if (!target.startsWith('/')) target = goJoin(splitPathDirEntry(srcPath)[0], target)
      ;[srcPath, rebaseName] = getRebaseName(srcPath, target)
    }
  }

  const int = interruptible()
  let content: Awaited<ReturnType<EngineClient['copyFromContainer']>>['content'] | undefined
  try {
    const res = await client.copyFromContainer(containerId(cfg.container), srcPath, int.signal)
    content = res.content
    if (dstPath === '-') {
      await toStdout(content)
      return
    }
    const src: CopyInfo = { path: srcPath, exists: true, isDir: goModeIsDir(res.stat.mode), rebaseName }
    const count = new ByteCount()
    let entries = readEntries(cfg.quiet ? content : count.counted(content))
    if (rebaseName !== '') entries = rebaseEntries(entries, splitPathDirEntry(srcPath)[1], rebaseName)
    if (cfg.quiet) {
      await copyTo(entries, src, dstPath)
      return
    }
    let failure: unknown
    await copyTo(entries, src, dstPath).catch((e: unknown) => { failure = e })
    err(successLine(count.n, dstPath))
    if (failure !== undefined) throw failure
  } catch (e) {
    if (int.interrupted()) return 0
    throw e
  } finally {
    content?.destroy()
    int.dispose()
  }
}

/**
 * To a container: what the destination is decides where the archive is
 * extracted and under which name; a symlink destination is followed once.
 */
async function copyToContainer(client: EngineClient, cfg: CpConfig): Promise<number | void> {
  let srcPath = cfg.sourcePath
  const dstPath = cfg.destPath
  if (srcPath !== '-') srcPath = resolveLocalPath(srcPath)

  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' }
  let dstStat = await tryStat(client, cfg.container, dstPath)
  if (dstStat && goModeHas(dstStat.mode, GO_MODE.symlink)) {
    let target = dstStat.linkTarget
    if (!target.startsWith('/')) target = goJoin(splitPathDirEntry(dstPath)[0], target)
    dst.path = target
    dstStat = await tryStat(client, cfg.container, target)
  }
  const problem = fileModeProblem(dstStat?.mode ?? 0)
  if (problem) throw new CopyError(`destination "${cfg.container}:${dstPath}" must be a directory or a regular file: ${problem}`)
  if (dstStat) {
    dst.exists = true
    dst.isDir = goModeIsDir(dstStat.mode)
  }

  let content: Readable
  let dstDir: string
  const count = new ByteCount()
  if (srcPath === '-') {
    content = process.stdin
    dstDir = dst.path
    if (!dst.isDir) throw new CopyError(`destination "${cfg.container}:${dstPath}" must be a directory`)
  } else {
    const src = await copyInfoSourcePath(srcPath, cfg.followLink)
    const archive = archiveForCopy(src, dst)
    dstDir = archive.dstDir
    content = tarStream(archive.entries, cfg.quiet ? undefined : count)
  }

  const id = containerId(cfg.container)
  const options = { noOverwriteDirNonDir: true, copyUIDGID: cfg.copyUIDGID }
  if (cfg.quiet) {
    await client.copyToContainer(id, dstDir, content, options)
    return
  }
  const int = interruptible()
  try {
    let failure: unknown
    await client.copyToContainer(id, dstDir, content, { ...options, signal: int.signal }).catch((e: unknown) => { failure = e })
    err(successLine(count.n, `${cfg.container}:${dst.path}`))
    if (failure !== undefined) {
      if (int.interrupted()) return 0
      throw failure
    }
  } finally {
    int.dispose()
  }
}

export const cpCommand: Handler = async ([source = '', destination = ''], opts, ctx) => {
  if (source === '') throw new CopyError('source can not be empty')
  if (destination === '') throw new CopyError('destination can not be empty')
  const src = splitCpArg(source)
  const dst = splitCpArg(destination)
  const cfg: CpConfig = {
    followLink: bool(opts.followLink),
    copyUIDGID: bool(opts.archive),
    // Without -q, the closing "Successfully copied" line is for a terminal on stdout only, as docker decides.
    quiet: opts.quiet === undefined ? !process.stdout.isTTY : bool(opts.quiet),
    sourcePath: src.path,
    destPath: dst.path,
    container: dst.container || src.container,
  }
  if (src.container !== '' && dst.container !== '') throw new CopyError('copying between containers is not supported')
  if (src.container === '' && dst.container === '') throw new CopyError('must specify at least one container source')
  const client = getClient(ctx.globals)
  return src.container !== '' ? copyFromContainer(client, cfg) : copyToContainer(client, cfg)
}

export const exportCommand: Handler = async ([container = ''], opts, ctx) => {
  const output = str(opts.output) ?? ''
  let writer: AtomicFileWriter | undefined
  if (output === '') {
    if (process.stdout.isTTY) throw new CopyError('cowardly refusing to save to a terminal. Use the -o flag or redirect')
  } else {
    try {
      writer = await AtomicFileWriter.open(output, 0o600)
    } catch (e) {
      throw new CopyError(`failed to export container: ${(e as Error).message}`, { cause: e })
    }
  }
  try {
    const body = await getClient(ctx.globals).containerExport(containerId(container))
    if (!writer) {
      await toStdout(body)
      return
    }
    for await (const c of body as AsyncIterable<Buffer>) await writer.write(c)
  } finally {
    // docker defers Close and ignores what it returns.
    await writer?.close().catch(() => {})
  }
}
