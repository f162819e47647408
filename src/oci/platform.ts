import { invalidArgument } from '../errors/index.js'
import type { Platform } from './types.js'

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }

/** The host platform in GOARCH/GOOS terms, as docker reports it. */
export function hostPlatform(): Platform {
  return { architecture: ARCH[process.arch] ?? process.arch, os: 'linux' }
}

/** moby httputils.DecodePlatform: the OCI platform as JSON, OS and architecture required. */
export function decodePlatform(text: string): Platform {
  let p: Partial<Record<keyof Platform | 'os.version' | 'os.features', unknown>>
  try {
    p = JSON.parse(text) as typeof p
  } catch (err) {
    throw invalidArgument(`failed to parse platform: ${(err as Error).message}`)
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalidArgument('failed to parse platform: json: cannot unmarshal into Go value of type v1.Platform')
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const os = str(p.os)
  const architecture = str(p.architecture)
  const optional = str(p.variant) !== '' || str(p['os.version']) !== '' || (Array.isArray(p['os.features']) && p['os.features'].length > 0)
  if (os === '' && architecture === '' && optional) throw invalidArgument('optional platform fields provided, but OS and Architecture are missing')
  if (os === '' || architecture === '') throw invalidArgument('both OS and Architecture must be provided')
  return { os, architecture, ...(str(p.variant) ? { variant: str(p.variant) } : {}) }
}
