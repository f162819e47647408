/**
 * The build context on disk, as moby's builder/remotecontext keeps it: the
 * body of POST /build (a tar, maybe gzip, bzip2, xz or zstd compressed) is
 * unpacked into a directory while each entry's tarsum is taken from the
 * stream (the sums COPY and ADD use for the cache), then the Dockerfile is
 * read and the Dockerfile and .dockerignore are removed when .dockerignore
 * excludes them. The client has already left out everything else
 * .dockerignore excludes.
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { invalidArgument } from '../errors/index.js'
import { decompressStream } from './decompress.js'
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js'
import { resolveSource, type ContextSums } from './tarsum.js'
import { extractTar } from './untar.js'

export interface BuildContext {
  /** The directory the context was unpacked into. */
  dir: string
  /** Each entry's tarsum, by cleaned path: pass as CopySpec.sums for COPY/ADD from the context. */
  sums: ContextSums
}

const DEFAULT_DOCKERFILE = 'Dockerfile'

/**
 * Unpack a build context tar into dir (existing and empty). Hostile input
 * (names leaving the context, paths through symlinks, hard links to
 * elsewhere, a corrupt stream) fails with invalid-argument; dir may then
 * hold part of the context, and nothing outside it was written.
 */
export async function extractContext(tar: Readable, dir: string, opts: { signal?: AbortSignal } = {}): Promise<BuildContext> {
  const sums = new Map<string, string>()
  let plain: Readable | undefined
  try {
    plain = (await decompressStream(tar)).stream
    await extractTar(plain, dir, { mode: 'context', sums, what: 'build context', ...(opts.signal ? { signal: opts.signal } : {}) })
  } finally {
    // Not tar: destroying an HTTP request body would close the connection the error has to go out on.
    plain?.destroy()
  }
  return { dir, sums }
}

/**
 * The Dockerfile's text, as moby's withDockerfileFromContext reads it:
 * `name` is a path inside the context (symlinks followed inside it); a
 * missing `Dockerfile` falls back to `dockerfile`; an empty one is an
 * error. Then, as docker does, the Dockerfile and .dockerignore are removed
 * from the context if .dockerignore excludes them, so COPY can't see them.
 */
export async function readDockerfile(dir: string, name: string = DEFAULT_DOCKERFILE): Promise<string> {
  const found = await findDockerfile(dir, name || DEFAULT_DOCKERFILE)
  await removeIgnoredBuildFiles(dir, found.name)
  return found.text
}

async function findDockerfile(dir: string, name: string): Promise<{ name: string; text: string }> {
  const { host } = await resolveSource(dir, name)
  let text: string
  try {
    text = await fsp.readFile(host, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (name === DEFAULT_DOCKERFILE) {
        const lower = name.toLowerCase()
        const alt = await resolveSource(dir, lower)
        if (await fsp.stat(alt.host).then(() => true, () => false)) return findDockerfile(dir, lower)
      }
      throw invalidArgument(`Cannot locate specified Dockerfile: ${name}`)
    }
    if (code === 'EISDIR') throw invalidArgument(`the Dockerfile (${name}) cannot be read: it is a directory`)
    throw err
  }
  if (text === '') throw invalidArgument(`the Dockerfile (${name}) cannot be empty`)
  return { name, text }
}

/**
 * moby's removeDockerfile: with a .dockerignore in the context, remove it
 * and the Dockerfile when its patterns exclude them (or a parent directory
 * of theirs). Without one, nothing is removed.
 */
export async function removeIgnoredBuildFiles(dir: string, dockerfile: string): Promise<void> {
  let text: string
  try {
    text = await fsp.readFile((await resolveSource(dir, '.dockerignore')).host, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw invalidArgument(`error reading .dockerignore: ${(err as Error).message}`, err)
  }
  let matcher: IgnoreMatcher
  try {
    matcher = new IgnoreMatcher(parseDockerignore(text))
  } catch {
    // moby ignores a pattern error here and removes nothing (the client reports it).
    return
  }
  for (const file of ['.dockerignore', dockerfile]) {
    if (!matcher.matches(file)) continue
    // As moby's archiveContext.Remove: the path as resolved inside the context.
    const { host } = await resolveSource(dir, file)
    if (host !== path.resolve(dir)) await fsp.rm(host, { recursive: true, force: true })
  }
}
