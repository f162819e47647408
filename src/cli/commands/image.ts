/** Image commands: images, rmi, tag, history, prune, import, save, load, pull, push. */
import { createReadStream, createWriteStream, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { ImageSummary, JSONMessage } from '../../api/types/index.js'
import { ClientError, compareVersions, encodeFilters, readJSONStream } from '../../client/index.js'
import type { Handler, Opts } from '../app.js'
import { bool, configFormat, err, getClient, out, str, strs } from '../context.js'
import { parseFilters, UsageError } from '../opts.js'
import {
  DEFAULT_HISTORY_TABLE, DEFAULT_IMAGE_TABLE, DEFAULT_IMAGE_TABLE_DIGEST, HISTORY_HEADERS, historyRow, IMAGE_HEADERS, imageRows,
} from '../output/contexts.js'
import { QUIET_FORMAT, renderFormat, TABLE_KEY } from '../output/format.js'
import { renderImageTree } from '../output/image-tree.js'
import { ProgressRenderer } from '../output/progress.js'
import { humanSizeWithPrecision } from '../../lib/index.js'
import { familiarName, normalizeReference, parseReference, referenceProblem } from '../reference.js'
import { registryAuthHeader } from '../credentials.js'
import { confirm } from './container.js'

/** docker's NewImageFormat. */
export function imageFormat(source: string | undefined, quiet: boolean, digest: boolean): string {
  if (!source || source === TABLE_KEY) {
    if (quiet) return QUIET_FORMAT
    return digest ? DEFAULT_IMAGE_TABLE_DIGEST : DEFAULT_IMAGE_TABLE
  }
  if (quiet) return QUIET_FORMAT
  let f = source
  if (f.startsWith(TABLE_KEY) && digest && !f.includes('{{.Digest}}')) f += '\t{{.Digest}}'
  return f
}

/** Why docker refuses these `images` flags with --tree, or undefined; docker checks them in this order. */
export function treeFlagProblem(opts: Opts): string | undefined {
  if (bool(opts.quiet)) return '--quiet is not yet supported with --tree'
  if (opts.trunc === false) return '--no-trunc is not yet supported with --tree'
  if (bool(opts.digests)) return '--show-digest is not yet supported with --tree'
  if (str(opts.format)) return '--format is not yet supported with --tree'
  return undefined
}

/** The subcommands of `image`: `berth images ls` more likely meant `berth image ls` (docker's printAmbiguousHint). */
const IMAGE_VERBS = ['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag']

export const imagesCommand: Handler = async ([repo], opts, ctx) => {
  const client = getClient(ctx.globals)
  const filters = parseFilters(strs(opts.filter))
  if (repo) filters.reference = { ...(filters.reference ?? {}), [repo]: true }
  if (bool(opts.tree)) {
    const problem = treeFlagProblem(opts)
    if (problem) throw new Error(problem)
    // As docker's client: per-platform manifests are asked for from API 1.47 on.
    const manifests = compareVersions(await client.apiVersion(), '1.47') >= 0 ? '1' : undefined
    const images = await client.json<ImageSummary[]>('GET', '/images/json', { query: { all: bool(opts.all) ? '1' : undefined, filters: encodeFilters(filters), manifests } })
    out(renderImageTree(images ?? [], { all: bool(opts.all), isTerminal: !!process.stdout.isTTY, ttyWidth: process.stdout.isTTY ? process.stdout.columns || 0 : 0 }))
    return
  }
  const list = await client.imageList({ all: bool(opts.all), filters })
  const digest = bool(opts.digests)
  const format = imageFormat(str(opts.format) || (bool(opts.quiet) ? undefined : configFormat('imagesFormat')), bool(opts.quiet), digest)
  let rows = imageRows(list, { trunc: opts.trunc !== false, digest, needDigest: digest || format.includes('{{.Digest}}') })
  // -q prints each image once, as docker dedups quiet output.
  if (format === QUIET_FORMAT) rows = rows.filter((r, i) => rows.findIndex((x) => x.ID === r.ID) === i)
  out(renderFormat(format, rows, IMAGE_HEADERS))
  if (repo && !list.length && ctx.path === 'berth images' && IMAGE_VERBS.includes(repo)) {
    err(`\nNo images found matching ${JSON.stringify(repo)}: did you mean "berth image ${repo}"?\n`)
  }
}

export const rmiCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  let failed = false
  for (const n of names) {
    try {
      const items = await client.imageRemove(n, { force: bool(opts.force), noPrune: opts.prune === false })
      for (const item of items) {
        if ('Untagged' in item) out(`Untagged: ${item.Untagged}\n`)
        else out(`Deleted: ${item.Deleted}\n`)
      }
    } catch (e) {
      err(`Error response from daemon: ${(e as Error).message}\n`)
      // rmi -f reports images that do not exist but does not fail for them.
      if (!(bool(opts.force) && e instanceof ClientError && e.statusCode === 404)) failed = true
    }
  }
  return failed ? 1 : 0
}

export const tagCommand: Handler = async ([source = '', target = ''], _opts, ctx) => {
  const client = getClient(ctx.globals)
  const ref = parseReference(target)
  if (!ref || ref.digest) {
    err(`Error parsing reference: "${target}" is not a valid repository/tag: ${referenceProblem(target)}\n`)
    return 1
  }
  await client.imageTag(source, familiarNameFull(ref.name), ref.tag ?? 'latest')
}

function familiarNameFull(name: string): string {
  return name
}

export const historyCommand: Handler = async ([name = ''], opts, ctx) => {
  const client = getClient(ctx.globals)
  const items = await client.imageHistory(name)
  const human = opts.human !== false
  const source = str(opts.format)
  let format: string
  if (!source || source === TABLE_KEY) {
    format = bool(opts.quiet) ? QUIET_FORMAT : human ? DEFAULT_HISTORY_TABLE : 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'
  } else format = source
  const trunc = opts.trunc !== false
  out(renderFormat(format, items.map((h) => historyRow(h, { trunc, human })), HISTORY_HEADERS))
}

export const imagePruneCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const all = bool(opts.all)
  const filters = parseFilters(strs(opts.filter))
  filters.dangling = { [all ? 'false' : 'true']: true }
  if (!bool(opts.force)) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.'
    if (!(await confirm(`${warning}\nAre you sure you want to continue? [y/N] `))) return 0
  }
  const report = await client.imagePrune(filters)
  const items = report.ImagesDeleted ?? []
  if (items.length) {
    let s = 'Deleted Images:\n'
    for (const i of items) s += 'Untagged' in i ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`
    out(s + '\n')
  }
  out(`Total reclaimed space: ${humanSizeWithPrecision(report.SpaceReclaimed ?? 0, 3)}\n`)
}

async function renderProgress(res: NodeJS.ReadableStream, opts: { onAux?: (aux: unknown) => void; write?: (s: string) => void } = {}): Promise<void> {
  const renderer = new ProgressRenderer(opts.write ?? out, { isTerminal: !!process.stdout.isTTY, width: process.stdout.columns, onAux: opts.onAux })
  for await (const msg of readJSONStream<JSONMessage>(res as never)) renderer.render(msg)
}

export const importCommand: Handler = async ([source = '', repository], opts, ctx) => {
  const client = getClient(ctx.globals)
  let repo: string | undefined
  let tag: string | undefined
  if (repository) {
    const ref = parseReference(repository)
    if (!ref || ref.digest) throw new UsageError(referenceProblem(repository))
    repo = ref.name
    tag = ref.tag
  }
  const isURL = /^https?:\/\//.test(source)
  const body = source === '-' ? process.stdin : isURL ? undefined : openInput(source)
  const res = await client.importImage({
    source: isURL ? source : '-', repo, tag, changes: strs(opts.change), message: str(opts.message), platform: str(opts.platform),
  }, body)
  await renderProgress(res)
}

/** Opens a file to upload, failing with Go's wording ("open x: no such file or directory"). */
function openInput(path: string): ReturnType<typeof createReadStream> {
  try {
    return createReadStream('', { fd: openSync(path, 'r') })
  } catch (e) {
    throw new Error(`open ${path}: ${errnoText(e as NodeJS.ErrnoException)}`)
  }
}

/** Go's text for common errno values. */
export function errnoText(e: NodeJS.ErrnoException): string {
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory',
  }
  return texts[e.code ?? ''] ?? e.message
}

export const saveCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const output = str(opts.output)
  if (!output && process.stdout.isTTY) {
    err('Cowardly refusing to save to a terminal. Use the -o flag or redirect\n')
    return 1
  }
  if (output) {
    const dir = dirname(output)
    try {
      statSync(dir)
    } catch (e) {
      err(`failed to save image: invalid output path: stat ${dir}: ${errnoText(e as NodeJS.ErrnoException)}\n`)
      return 1
    }
  }
  const res = await client.imageSave(names)
  await pipeline(res, output ? createWriteStream(output) : process.stdout)
}

export const loadCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const input = str(opts.input)
  if (!input && process.stdin.isTTY) {
    err('requested load from stdin, but stdin is empty\n')
    return 1
  }
  const res = await client.imageLoad(input ? openInput(input) : process.stdin, bool(opts.quiet))
  await renderProgress(res)
}

export const pullCommand: Handler = async ([name = ''], opts, ctx) => {
  const client = getClient(ctx.globals)
  const parsed = parseReference(name)
  if (!parsed) throw new UsageError('invalid reference format')
  if (bool(opts.allTags) && (parsed.tag || parsed.digest)) throw new UsageError("tag can't be used with --all-tags/-a")
  if (!parsed.tag && !parsed.digest && !bool(opts.allTags)) out('Using default tag: latest\n')
  const ref = normalizeReference(name)
  if (!ref) throw new UsageError('invalid reference format')
  const res = await client.pull(ref.name, bool(opts.allTags) ? '' : ref.digest ?? ref.tag ?? 'latest', { platform: str(opts.platform), auth: await registryAuthHeader(name) })
  const quiet = bool(opts.quiet)
  await renderProgress(res, { write: quiet ? () => {} : out })
  if (bool(opts.allTags)) out(`${ref.name}\n`)
  else out(`${ref.name}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`}\n`)
}

/** docker push (docker/cli cli/command/image/push.go): `-a` sends the name only, so the daemon pushes every tag. */
export const pushCommand: Handler = async ([name = ''], opts, ctx) => {
  const client = getClient(ctx.globals)
  const parsed = parseReference(name)
  if (!parsed) throw new UsageError(referenceProblem(name))
  if (parsed.digest) throw new UsageError('cannot push a digest reference')
  const all = bool(opts.allTags)
  const quiet = bool(opts.quiet)
  if (all && parsed.tag) throw new UsageError("tag can't be used with --all-tags/-a")
  if (!all && !parsed.tag && !quiet) out('Using default tag: latest\n')
  const tag = all ? '' : parsed.tag ?? 'latest'
  const res = await client.imagePush(familiarName(parsed.name), tag, { platform: str(opts.platform), auth: await registryAuthHeader(name) })
  await renderProgress(res, { write: quiet ? () => {} : out })
  if (quiet) out(`${parsed.name}${tag ? `:${tag}` : ''}\n`)
}
