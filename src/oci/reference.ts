/**
 * Docker image references (distribution/reference grammar and docker's
 * normalization). Hand-written: there is no maintained npm port of that Go
 * package, and docker's exact error strings and familiar forms are the contract.
 */
import { invalidArgument } from '../errors/index.js'

const alnum = '[a-z0-9]+'
const separator = '(?:[._]|__|[-]+)'
const pathComponent = `${alnum}(?:${separator}${alnum})*`
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[(?:[a-fA-F0-9:]+)\\])`
const domainAndPort = `${host}(?::[0-9]+)?`
const tagPat = '[\\w][\\w.-]{0,127}'
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}'
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`)
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${pathComponent}(?:/${pathComponent})*)$`)
const TAG_RE = new RegExp(`^${tagPat}$`)
const IDENTIFIER_RE = /^[a-f0-9]{64}$/
const SHA256_RE = /^sha256:[a-f0-9]{64}$/

export const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io'
const OFFICIAL_PREFIX = 'library/'
const NAME_MAX = 255

/** A parsed reference: always has a name; tag and digest are optional. */
export interface Reference {
  /** Registry host[:port]; docker.io for Docker Hub. */
  domain: string
  /** Repository path, `library/busybox` for official images. */
  path: string
  tag?: string
  digest?: string
}

/** Either a named reference or a bare image ID (ParseAnyReference). */
export type AnyReference = { kind: 'named'; ref: Reference } | { kind: 'id'; id: string }

const refErr = (msg: string) => invalidArgument(msg)

/** go-digest's algorithms docker links in, by encoded length. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 }

/** go-digest's Digest.Validate, with its words. */
function parseDigestStrict(d: string): string {
  const i = d.indexOf(':')
  if (i <= 0 || i + 1 === d.length) throw refErr('invalid checksum digest format')
  const size = DIGEST_HEX_LENGTH[d.slice(0, i)]
  if (size === undefined) throw refErr(new RegExp(`^${digestPat}$`).test(d) ? 'unsupported digest algorithm' : 'invalid checksum digest format')
  const encoded = d.slice(i + 1)
  if (encoded.length !== size) throw refErr('invalid checksum digest length')
  if (!/^[a-f0-9]+$/.test(encoded)) throw refErr('invalid checksum digest format')
  return d
}

/** distribution/reference.Parse: no normalization, docker's errors. */
export function parseReference(s: string): Reference {
  const m = REFERENCE_RE.exec(s)
  if (!m) {
    if (s === '') throw refErr('repository name must have at least one component')
    if (REFERENCE_RE.test(s.toLowerCase())) throw refErr('repository name must be lowercase')
    throw refErr('invalid reference format')
  }
  const name = m[1] as string
  const nm = ANCHORED_NAME_RE.exec(name)
  const ref: Reference = nm ? { domain: nm[1] ?? '', path: nm[2] as string } : { domain: '', path: name }
  if (ref.path.length > NAME_MAX) throw refErr(`repository name must not be more than ${NAME_MAX} characters`)
  if (m[2]) ref.tag = m[2]
  if (m[3]) ref.digest = parseDigestStrict(m[3])
  return ref
}

function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/')
  if (slash === -1) return [DEFAULT_DOMAIN, OFFICIAL_PREFIX + name]
  const maybeDomain = name.slice(0, slash)
  const rest = name.slice(slash + 1)
  let domain: string
  let remote: string
  if (maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
    domain = maybeDomain === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : maybeDomain
    remote = rest
  } else {
    domain = DEFAULT_DOMAIN
    remote = name
  }
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_PREFIX + remote
  return [domain, remote]
}

/** reference.ParseNormalizedNamed: `busybox` → docker.io/library/busybox. */
export function parseNormalizedNamed(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) throw refErr(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`)
  const [domain, remainder] = splitDockerDomain(s)
  const colon = remainder.indexOf(':')
  const remote = colon > -1 ? remainder.slice(0, colon) : remainder
  if (remote.toLowerCase() !== remote) throw refErr(`invalid reference format: repository name (${remote}) must be lowercase`)
  return parseReference(`${domain}/${remainder}`)
}

/** reference.ParseAnyReference: a 64-hex ID or full digest is an image ID; anything else a name. */
export function parseAnyReference(s: string): AnyReference {
  if (IDENTIFIER_RE.test(s)) return { kind: 'id', id: 'sha256:' + s }
  if (SHA256_RE.test(s)) return { kind: 'id', id: s }
  return { kind: 'named', ref: parseNormalizedNamed(s) }
}

/** Add `:latest` when the reference has neither tag nor digest (TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref
}

export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) throw refErr('invalid tag format')
  return { domain: ref.domain, path: ref.path, tag }
}

export function isNameOnly(ref: Reference): boolean {
  return ref.tag === undefined && ref.digest === undefined
}

/** Full repository name: `docker.io/library/busybox`. */
export function repositoryName(ref: Reference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path
}

/** Canonical string: `docker.io/library/busybox:latest`, `x@sha256:…`. */
export function formatReference(ref: Reference): string {
  return repositoryName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '')
}

/** reference.FamiliarName: `busybox`, `user/app`, `127.0.0.1:5000/x`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref)
  if (ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length)
    if (!rest.includes('/')) return rest
  }
  return ref.path
}

/** reference.FamiliarString: `busybox:latest`, `busybox@sha256:…`. */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '')
}

/**
 * reference.FamiliarMatch: a shell glob (Go path.Match) against the familiar
 * string, and against the familiar name alone.
 */
export function familiarMatch(pattern: string, ref: Reference): boolean {
  const re = globToRegExp(pattern)
  return re.test(familiarString(ref)) || re.test(familiarName(ref))
}

/** Go path.Match semantics: `*` and `?` never cross `/`; `[...]` classes; `\` escapes. */
export function globToRegExp(pattern: string): RegExp {
  let src = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string
    if (c === '*') src += '[^/]*'
    else if (c === '?') src += '[^/]'
    else if (c === '\\' && i + 1 < pattern.length) src += escapeRe(pattern[++i] as string)
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end === -1) throw invalidArgument('syntax error in pattern')
      let cls = pattern.slice(i + 1, end)
      if (cls.startsWith('^')) cls = '^' + cls.slice(1)
      src += `[${cls.replace(/\\/g, '\\\\')}]`
      i = end
    } else src += escapeRe(c)
  }
  return new RegExp(`^${src}$`)
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
