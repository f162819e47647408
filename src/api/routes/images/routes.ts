import http from 'node:http'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { invalidArgument, messageOf, notFound } from '../../../errors/index.js'
import { decodePlatform, formatReference, parseNormalizedNamed, withDefaultTag } from '../../../oci/index.js'
import type { Ctx, Router } from '../../server/index.js'
import type { ImagesBackend } from './backend.js'
import type { PullProgress, PushProgress } from '../../../images/index.js'
import { errorMessage, progressBar, toDeleteItems, toHistory, toInspect, toJsonMessage, toPruneReport, toSummary } from './convert.js'

/** `repo` plus optional `tag` as one reference string (httputils.RepoTagReference). */
function repoTag(repo: string, tag: string): string | undefined {
  if (repo === '') return undefined
  if (tag === '') return repo
  return /^sha256:[a-f0-9]{64}$/.test(tag) ? `${repo}@${tag}` : `${repo}:${tag}`
}

/** Import from a URL: only loopback http(s), since berthd must not become a fetch proxy to the world. */
function fetchLoopback(src: string): Promise<{ body: Readable; url: string }> {
  const url = new URL(src.includes('://') ? src : `http://${src}`)
  if (url.protocol !== 'http:') throw invalidArgument(`unsupported import URL ${url.protocol}//…: berthd imports only from http URLs on loopback or from the request body (fromSrc=-)`)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw invalidArgument(`refusing to import from ${url.host}: berthd fetches import URLs only from loopback; upload the tar instead (fromSrc=-)`)
  }
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      if ((res.statusCode ?? 0) >= 400) {
        res.resume()
        reject(invalidArgument(`error downloading ${url.href}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()))
        return
      }
      resolve({ body: res, url: url.href })
    }).on('error', (err) => reject(invalidArgument(`error downloading ${url.href}: ${err.message}`, err)))
  })
}

interface ProgressEvent {
  progressDetail?: { current?: number; total?: number }
}

/**
 * Run a registry transfer with docker's JSON messages. The stream opens with
 * the first message, so an error before it (unknown manifest, no such image,
 * bad credentials) is a status and `{"message"}`; one after it goes in-stream
 * as errorDetail. A client that hangs up cancels the transfer.
 */
async function transfer<E extends ProgressEvent>(ctx: Ctx, run: (progress: (ev: E) => void, signal: AbortSignal) => Promise<unknown>): Promise<void> {
  let out: ReturnType<Ctx['jsonStream']> | undefined
  const abort = new AbortController()
  const write = (ev: E) => {
    if (!out) {
      out = ctx.jsonStream()
      ctx.res?.on('close', () => abort.abort(new Error('client disconnected')))
    }
    const d = ev.progressDetail
    out.write(d?.current !== undefined && d.total !== undefined ? { ...ev, progress: progressBar(d.current, d.total) } : ev)
  }
  try {
    await run(write, abort.signal)
  } catch (err) {
    if (!out) throw err
    out.write(errorMessage(messageOf(err)))
  }
  out?.end()
}

async function pull(ctx: Ctx, b: ImagesBackend, ref: string, allTags: boolean): Promise<void> {
  await transfer<PullProgress>(ctx, (progress, signal) =>
    b.pull(ref, { platform: ctx.query.get('platform') || undefined, encodedAuth: ctx.req.headers['x-registry-auth'] as string | undefined, progress, signal, allTags }),
  )
}

/** Push (moby postImagesPush): an empty tag pushes every tag of the name. */
async function push(ctx: Ctx, b: ImagesBackend): Promise<void> {
  const name = ctx.params.name ?? ''
  const ref = repoTag(name, ctx.query.get('tag') ?? '')
  if (ref === undefined) throw invalidArgument('repository name must have at least one component')
  await transfer<PushProgress>(ctx, (progress, signal) =>
    b.push(ref, { platform: ctx.query.get('platform') || undefined, encodedAuth: ctx.req.headers['x-registry-auth'] as string | undefined, progress, signal }),
  )
}

async function postCreate(ctx: Ctx, b: ImagesBackend): Promise<void> {
  const q = ctx.query
  const fromImage = q.get('fromImage') ?? ''
  if (fromImage !== '') {
    const tag = q.get('tag') ?? ''
    const named = parseNormalizedNamed(repoTag(fromImage.replace(/:$/, ''), tag) ?? fromImage)
    // moby postImagesCreate: a name with neither tag nor digest pulls every tag (docker pull -a sends `tag=`).
    const allTags = named.tag === undefined && named.digest === undefined
    await pull(ctx, b, formatReference(allTags ? named : withDefaultTag(named)), allTags)
    return
  }
  const src = q.get('fromSrc') ?? ''
  if (src === '') throw invalidArgument('fromImage or fromSrc is required')
  const ref = repoTag(q.get('repo') ?? '', q.get('tag') ?? '')
  const changes = q.getAll('changes')
  const message = q.get('message') || `Imported from ${src}`
  if (src === '-') {
    const id = await b.importRootfs(ctx.body(), { ref, changes, message })
    const out = ctx.jsonStream()
    out.write({ status: id })
    out.end()
    return
  }
  const { body, url } = await fetchLoopback(src)
  const out = ctx.jsonStream()
  out.write({ status: `Downloading from ${url}` })
  try {
    out.write({ status: await b.importRootfs(body, { ref, changes, message }) })
  } catch (err) {
    out.write(errorMessage(messageOf(err)))
  }
  out.end()
}

/**
 * The image routes (moby api/server/router/image). Handlers translate
 * parameters and shapes; the backend holds the semantics.
 */
export function imageRoutes(r: Router, b: ImagesBackend): void {
  r.get('/images/json', (ctx) => {
    const filters = ctx.filters()
    const legacy = ctx.query.get('filter')
    if (ctx.version < 41 && legacy) filters.set('reference', [...(filters.get('reference') ?? []), legacy])
    ctx.send(200, b.list({ all: ctx.bool('all'), filters }).map((s) => toSummary(s, ctx.version)))
  })

  r.get('/images/get', async (ctx) => {
    const names = ctx.query.getAll('names')
    await sendTar(ctx, await b.save(names))
  })

  r.post('/images/create', (ctx) => postCreate(ctx, b))

  r.post('/images/load', async (ctx) => {
    const quiet = ctx.bool('quiet', true)
    const out = ctx.jsonStream()
    try {
      await b.load(ctx.body(), { progress: (ev) => (ev.kind === 'message' || !quiet) && out.write(toJsonMessage(ev)) })
    } catch (err) {
      out.write(errorMessage(messageOf(err)))
    }
    out.end()
  })

  r.post('/images/prune', async (ctx) => {
    ctx.send(200, toPruneReport(await b.prune({ filters: ctx.filters() })))
  })

  r.get('/images/{name:.*}/json', async (ctx) => {
    // moby 28: manifests from 1.48 (berth's store keeps no manifest lists: none to show), platform from 1.49.
    const manifests = ctx.version >= 48 && ctx.bool('manifests')
    const platformQ = ctx.version >= 49 ? ctx.query.get('platform') : null
    const platform = platformQ ? decodePlatform(platformQ) : undefined
    if (manifests && platform) throw invalidArgument('conflicting options: manifests and platform options cannot both be set')
    const img = b.inspect(ctx.params.name ?? '', platform ? { platform } : {})
    ctx.send(200, toInspect(img, await b.driverData(img.id), ctx.version))
  })

  r.get('/images/{name:.*}/history', (ctx) => {
    ctx.send(200, toHistory(b.history(ctx.params.name ?? '')))
  })

  r.get('/images/{name:.*}/get', async (ctx) => {
    await sendTar(ctx, await b.save([ctx.params.name ?? '']))
  })

  r.post('/images/{name:.*}/push', (ctx) => push(ctx, b))

  r.post('/images/{name:.*}/tag', (ctx) => {
    const target = repoTag(ctx.query.get('repo') ?? '', ctx.query.get('tag') ?? '')
    if (target === undefined) throw invalidArgument('repository name must have at least one component')
    if (target.includes('@')) throw invalidArgument('refusing to create a tag with a digest reference')
    try {
      b.tag(ctx.params.name ?? '', target)
    } catch (err) {
      // docker answers an unknown source with 404 whatever the reason resolve gave.
      if (err instanceof Error && /^No such image/.test(err.message)) throw notFound(err.message, err)
      throw err
    }
    ctx.send(201)
  })

  r.delete('/images/{name:.*}', async (ctx) => {
    const name = ctx.params.name ?? ''
    if (name.trim() === '') throw invalidArgument('image name cannot be blank')
    ctx.send(200, toDeleteItems(await b.remove(name, { force: ctx.bool('force'), noPrune: ctx.bool('noprune') })))
  })
}

async function sendTar(ctx: Ctx, tar: Readable): Promise<void> {
  const res = ctx.stream(200, 'application/x-tar')
  try {
    await pipeline(tar, res)
  } catch {
    // The client went away or a blob vanished mid-stream: the status is sent; cut the connection.
    res.destroy()
  }
}
