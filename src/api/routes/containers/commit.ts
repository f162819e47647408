/**
 * POST /commit and GET /containers/{id}/changes (moby api/server/router/container
 * postCommit and getContainersChanges): parameters in, the backend does the rest.
 */
import { invalidArgument } from '../../../errors/index.js'
import type { Change } from '../../../images/index.js'
import { formatReference, parseNormalizedNamed, withDefaultTag, withTag, type RunConfig } from '../../../oci/index.js'
import type { Router } from '../../server/index.js'
import type { ContainerConfig, FilesystemChange, IdResponse } from '../../types/index.js'

export interface CommitBackend {
  /** Returns the new image's ID. */
  commit(req: { container: string; ref?: string; author: string; comment: string; changes: string[]; pause: boolean; config: RunConfig | null }): Promise<string>
  changes(container: string): Promise<Change[]>
}

const KINDS: Record<Change['kind'], FilesystemChange['Kind']> = { C: 0, A: 1, D: 2 }

/** The fields of a container config that an image config keeps; the rest of the body is ignored, as docker's decoder drops HostConfig. */
const CONFIG_KEYS = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd',
  'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels', 'StopSignal', 'Shell',
] as const

function runConfig(body: ContainerConfig): RunConfig {
  const out: Record<string, unknown> = {}
  for (const k of CONFIG_KEYS) if (body[k] !== undefined) out[k] = body[k]
  return out as RunConfig
}

/** httputils.RepoTagReference: no repo, no tag; a tag parameter replaces the repo's; latest by default. */
export function commitReference(repo: string, tag: string): string | undefined {
  if (repo === '') return undefined
  const named = parseNormalizedNamed(repo)
  if (named.digest !== undefined) throw invalidArgument('cannot import digest reference')
  return formatReference(tag !== '' ? withTag(named, tag) : withDefaultTag(named))
}

export function commitRoutes(r: Router, b: CommitBackend): void {
  r.post('/commit', async (ctx) => {
    const body = await ctx.json<ContainerConfig | null>()
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) throw invalidArgument('invalid JSON: the body must be a container config object')
    const q = ctx.query
    const id = await b.commit({
      container: q.get('container') ?? '',
      ref: commitReference(q.get('repo') ?? '', q.get('tag') ?? ''),
      author: q.get('author') ?? '',
      comment: q.get('comment') ?? '',
      changes: q.getAll('changes'),
      pause: ctx.bool('pause', true),
      config: body ? runConfig(body) : null,
    })
    const res: IdResponse = { Id: id }
    ctx.send(201, res)
  })

  r.get('/containers/{id}/changes', async (ctx) => {
    const changes = await b.changes(ctx.params.id ?? '')
    ctx.send(200, changes.map((c): FilesystemChange => ({ Path: c.path, Kind: KINDS[c.kind] })))
  })
}
