/**
 * Image reference handling as docker's distribution/reference does it for the
 * CLI: normalise `busybox` to `docker.io/library/busybox:latest`, and back to
 * the familiar form for display. Only the parts the CLI needs.
 */

export interface ParsedReference {
  /** Fully qualified name: docker.io/library/busybox. */
  name: string
  tag?: string
  digest?: string
}

const DEFAULT_DOMAIN = 'docker.io'

function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/')
  if (i < 0) return [DEFAULT_DOMAIN, `library/${name}`]
  const first = name.slice(0, i)
  if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
    const domain = first === 'index.docker.io' ? DEFAULT_DOMAIN : first
    const rest = name.slice(i + 1)
    if (domain === DEFAULT_DOMAIN && !rest.includes('/')) return [domain, `library/${rest}`]
    return [domain, rest]
  }
  return [DEFAULT_DOMAIN, name]
}

const NAME_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/

/** Parses and normalises a reference; undefined if it is not a valid one. */
export function parseReference(ref: string): ParsedReference | undefined {
  let rest = ref
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) return undefined
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined
  }
  if (!rest) return undefined
  const [domain, path] = splitDomain(rest)
  if (!NAME_RE.test(path)) return undefined
  return { name: `${domain}/${path}`, tag, digest }
}

/** A reference as docker's ParseNormalizedNamed + TagNameOnly: the tag defaults to latest. */
export function normalizeReference(ref: string): ParsedReference | undefined {
  const r = parseReference(ref)
  if (!r) return undefined
  if (!r.tag && !r.digest) r.tag = 'latest'
  return r
}

/** docker.io/library/busybox → busybox; docker.io/u/x → u/x. */
export function familiarName(name: string): string {
  if (name.startsWith(`${DEFAULT_DOMAIN}/library/`) && name.split('/').length === 3) return name.slice(`${DEFAULT_DOMAIN}/library/`.length)
  if (name.startsWith(`${DEFAULT_DOMAIN}/`)) return name.slice(DEFAULT_DOMAIN.length + 1)
  return name
}

export function familiarString(r: ParsedReference): string {
  return familiarName(r.name) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '')
}

export function fullString(r: ParsedReference): string {
  return r.name + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '')
}

/** Why `ref` is not a valid tag reference, in distribution/reference's words. */
export function referenceProblem(ref: string): string {
  const at = ref.indexOf('@')
  const named = at >= 0 ? ref.slice(0, at) : ref
  const colon = named.lastIndexOf(':')
  const name = colon > named.lastIndexOf('/') ? named.slice(0, colon) : named
  if (at < 0 && name !== name.toLowerCase()) {
    const lower = parseReference(ref.replace(name, name.toLowerCase()))
    if (lower) {
      const [domain, path] = splitDomain(name)
      return `invalid reference format: repository name (${domain === DEFAULT_DOMAIN ? path : `${domain}/${path}`}) must be lowercase`
    }
  }
  return 'invalid reference format'
}
