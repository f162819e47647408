/**
 * docker cp and docker export (moby api/server/router/container copy.go and
 * getContainersExport): HEAD/GET/PUT /containers/{id}/archive and GET
 * /containers/{id}/export. Parameters in, tar streams through; the backend
 * resolves paths inside the container.
 */
import type { Readable } from 'node:stream'
import { invalidArgument } from '../../../errors/index.js'
import type { Ctx, Router } from '../../server/index.js'
import type { ContainerPathStat } from '../../types/index.js'

export interface ArchiveBackend {
  statPath(container: string, path: string): Promise<ContainerPathStat>
  archivePath(container: string, path: string): Promise<{ stat: ContainerPathStat; content: Readable }>
  extractToDir(container: string, path: string, content: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void>
  export(container: string): Promise<Readable>
}

/** httputils.ArchiveFormValues: the path is required (the message lacks a space in docker too). */
function archivePathParam(ctx: Ctx): string {
  const p = ctx.query.get('path')
  if (!p) throw invalidArgument('bad parameter: pathcannot be empty')
  return p
}

function setStatHeader(ctx: Ctx, stat: ContainerPathStat): void {
  ctx.setHeader('X-Docker-Container-Path-Stat', Buffer.from(JSON.stringify(stat)).toString('base64'))
}

/** Send a tar; a failure after the headers can only cut the stream, which the client sees as a short archive. */
function sendTar(ctx: Ctx, content: Readable): void {
  const res = ctx.stream(200, 'application/x-tar')
  content.on('error', () => res.destroy())
  res.on('close', () => content.destroy())
  content.pipe(res)
}

export function archiveRoutes(r: Router, b: ArchiveBackend): void {
  r.head('/containers/{id}/archive', async (ctx) => {
    setStatHeader(ctx, await b.statPath(ctx.params.id ?? '', archivePathParam(ctx)))
    ctx.send(200)
  })

  r.get('/containers/{id}/archive', async (ctx) => {
    const { stat, content } = await b.archivePath(ctx.params.id ?? '', archivePathParam(ctx))
    setStatHeader(ctx, stat)
    sendTar(ctx, content)
  })

  r.put('/containers/{id}/archive', async (ctx) => {
    const path = archivePathParam(ctx)
    await b.extractToDir(ctx.params.id ?? '', path, ctx.body(), { noOverwriteDirNonDir: ctx.bool('noOverwriteDirNonDir'), copyUIDGID: ctx.bool('copyUIDGID') })
    ctx.send(200)
  })

  r.get('/containers/{id}/export', async (ctx) => {
    sendTar(ctx, await b.export(ctx.params.id ?? ''))
  })
}
