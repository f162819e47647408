/**
 * Platform strings (`linux/arm64/v8`) and choosing one manifest from a list or
 * index, as containerd's platforms matcher does for a single platform.
 */
import { invalidArgument } from '../../errors/index.js'
import type { Descriptor, Platform } from '../../oci/index.js'

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' }

/** Parse `os[/arch[/variant]]` or a bare arch; normalize the arch and default variants as containerd does. */
export function parsePlatform(s: string, host: Platform): Platform {
  const parts = s.toLowerCase().split('/')
  if (parts.some((p) => p === '') || parts.length > 3) throw invalidArgument(`"${s}": invalid platform: must be os[/arch[/variant]]`)
  let os: string
  let arch: string
  let variant: string | undefined
  if (parts.length === 1) {
    const only = parts[0] as string
    // A lone known OS means that OS on the host's architecture; anything else an architecture.
    if (['linux', 'windows', 'darwin', 'freebsd'].includes(only)) {
      os = only
      arch = host.architecture
      variant = host.variant
    } else {
      os = host.os
      arch = only
    }
  } else {
    os = parts[0] as string
    arch = parts[1] as string
    variant = parts[2]
  }
  arch = ARCH_ALIASES[arch] ?? arch
  if (arch === 'arm64' && variant === undefined) variant = 'v8'
  if (arch === 'arm' && variant === undefined) variant = 'v7'
  if (arch === 'amd64' && variant === 'v1') variant = undefined
  return variant === undefined ? { os, architecture: arch } : { os, architecture: arch, variant }
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x).join('/')
}

function normalizeVariant(arch: string, variant: string | undefined): string | undefined {
  if (arch === 'arm64') return variant ?? 'v8'
  if (arch === 'arm') return variant ?? 'v7'
  if (arch === 'amd64' && variant === 'v1') return undefined
  return variant
}

/** Whether an image's platform satisfies the wanted one (a wanted variant must match; none wanted takes any). */
export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os) return false
  if ((ARCH_ALIASES[have.architecture] ?? have.architecture) !== want.architecture) return false
  const wv = normalizeVariant(want.architecture, want.variant)
  const hv = normalizeVariant(want.architecture, have.variant)
  return wv === undefined || hv === undefined || wv === hv
}

/**
 * The manifest of a list/index for the platform: exact variant first, then
 * the first compatible entry. Entries without a platform (attestations,
 * artifacts) never match.
 */
export function selectManifest(entries: readonly Descriptor[], want: Platform): Descriptor | undefined {
  const candidates = entries.filter((d) => d.platform && platformMatches(want, d.platform))
  const wv = normalizeVariant(want.architecture, want.variant)
  return candidates.find((d) => normalizeVariant(want.architecture, d.platform?.variant) === wv) ?? candidates[0]
}
