/**
 * Decompression as moby's compression.DecompressStream does it for build
 * contexts and ADD archives: gzip, bzip2, xz and zstd told apart by their
 * magic bytes, anything else passed through as is. gzip is zlib's; the
 * others go through the `bzip2`, `xz` and `zstd` programs, since Node 20 has
 * no decoder for them (archive/decompress() takes only gzip, for layers).
 */
import { spawn } from 'node:child_process'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { EngineError, invalidArgument, unavailable } from '../errors/index.js'
import { detectCompression, peek, type Compression } from '../archive/index.js'

const TOOLS: Partial<Record<Compression, [string, string[]]>> = {
  bzip2: ['bzip2', ['-d', '-c', '-q']],
  xz: ['xz', ['-d', '-c', '-q']],
  zstd: ['zstd', ['-d', '-c', '-q']],
}

/** The input's uncompressed bytes; `compression` says what it was. Destroying the result stops any helper process. */
export async function decompressStream(input: AsyncIterable<Uint8Array>): Promise<{ stream: Readable; compression: Compression }> {
  const { head, stream } = await peek(input, 6)
  const compression = detectCompression(head)
  if (compression === 'none') return { stream, compression }
  if (compression === 'gzip') return { stream: Readable.from(gunzip(stream), { objectMode: false }), compression }
  const tool = TOOLS[compression]
  if (!tool) throw invalidArgument(`unsupported compression format ${compression}`)
  return { stream: Readable.from(runTool(compression, tool, stream), { objectMode: false }), compression }
}

async function* gunzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createGunzip()
  const feeding = pipeline(Readable.from(input), z).catch(() => {})
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) yield chunk
    await feeding
  } catch (err) {
    throw invalidArgument(`decompressing gzip data: ${(err as Error).message}`, err)
  } finally {
    z.destroy()
  }
}

async function* runTool(kind: Compression, [cmd, args]: [string, string[]], input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let spawnError: Error | undefined
  const stderr: Buffer[] = []
  child.stderr.on('data', (b: Buffer) => stderr.push(b))
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      spawnError = err
      resolve(null)
    })
    child.on('close', (code) => resolve(code))
  })
  // The tool may stop reading early (bad data); its exit status tells.
  const feeding = pipeline(Readable.from(input), child.stdin).catch(() => {})
  let finished = false
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk
    const code = await exited
    await feeding
    if (spawnError) {
      const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
      throw missing
        ? unavailable(`reading ${kind}-compressed data needs the ${cmd} program, which is not installed`)
        : unavailable(`running ${cmd}: ${spawnError.message}`)
    }
    if (code !== 0) {
      const msg = Buffer.concat(stderr).toString('utf8').trim()
      throw invalidArgument(`decompressing ${kind} data: ${msg || `${cmd} exited with ${code}`}`)
    }
    finished = true
  } catch (err) {
    if (err instanceof EngineError) throw err
    throw invalidArgument(`decompressing ${kind} data: ${(err as Error).message}`, err)
  } finally {
    if (!finished && child.exitCode === null) child.kill('SIGKILL')
  }
}
