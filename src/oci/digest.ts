import { createHash } from 'node:crypto'
import { invalidArgument } from '../errors/index.js'

/** `sha256:<64 hex>`; the only algorithm docker and berth produce. */
export type Digest = string

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s)
}

/** Validate a digest string; docker answers a malformed one with "invalid digest format". */
export function parseDigest(s: string): Digest {
  if (DIGEST_RE.test(s)) return s
  if (ANY_DIGEST_RE.test(s)) throw invalidArgument(`unsupported digest algorithm: ${s}`)
  throw invalidArgument('invalid digest format')
}

export function digestHex(d: Digest): string {
  return d.startsWith('sha256:') ? d.slice(7) : d
}

export function sha256(data: string | Uint8Array): Digest {
  return 'sha256:' + createHash('sha256').update(data).digest('hex')
}

/**
 * The chainID of a layer stack (image-spec config.md): the first layer's is
 * its diffID; each next one is sha256("<parent chainID> <diffID>").
 */
export function chainId(parent: Digest | null, diffId: Digest): Digest {
  return parent === null ? diffId : sha256(`${parent} ${diffId}`)
}

/** Every prefix chainID of a diffID list, bottom first. */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = []
  let parent: Digest | null = null
  for (const d of diffIds) {
    parent = chainId(parent, d)
    out.push(parent)
  }
  return out
}
