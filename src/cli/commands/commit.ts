/**
 * `berth commit` and `berth container diff`, as docker 28's (docker/cli
 * cli/command/container/commit.go and diff.go, and the client's
 * ContainerCommit, which splits the reference into repo and tag).
 */
import type { FilesystemChange, IdResponse } from '../../api/types/index.js'
import type { Handler } from '../app.js'
import { err, getClient, out, str, strs } from '../context.js'
import { familiarName, parseReference, referenceProblem } from '../reference.js'

const KIND_LETTERS = ['C', 'A', 'D']

/** The query of POST /commit for a CLI reference (repo and tag, latest by default). */
export function commitQuery(container: string, reference: string | undefined, o: { comment?: string; author?: string; changes: string[]; pause: boolean }): URLSearchParams {
  const q = new URLSearchParams()
  q.set('container', container)
  if (reference) {
    const ref = parseReference(reference)
    if (!ref) throw new Error(referenceProblem(reference))
    if (ref.digest) throw new Error('refusing to create a tag with a digest reference')
    q.set('repo', familiarName(ref.name))
    q.set('tag', ref.tag ?? 'latest')
  }
  if (o.comment) q.set('comment', o.comment)
  if (o.author) q.set('author', o.author)
  for (const c of o.changes) q.append('changes', c)
  if (!o.pause) q.set('pause', '0')
  return q
}

export const commitCommand: Handler = async ([container = '', reference], opts, ctx) => {
  const q = commitQuery(container, reference, { comment: str(opts.message), author: str(opts.author), changes: strs(opts.change), pause: opts.pause !== false })
  const res = await getClient(ctx.globals).json<IdResponse>('POST', `/commit?${q.toString()}`)
  out(`${res.Id}\n`)
}

/** docker's diff lines: `C /etc`. */
export function diffLines(changes: readonly FilesystemChange[] | null): string {
  return (changes ?? []).map((c) => `${KIND_LETTERS[c.Kind] ?? ''} ${c.Path}\n`).join('')
}

export const diffCommand: Handler = async ([container = ''], _opts, ctx) => {
  if (container === '') {
    err('Container name cannot be empty\n')
    return 1
  }
  const changes = await getClient(ctx.globals).json<FilesystemChange[] | null>('GET', `/containers/${encodeURIComponent(container)}/changes`)
  out(diffLines(changes))
}
