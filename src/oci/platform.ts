import type { Platform } from './types.js'

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }

/** The host platform in GOARCH/GOOS terms, as docker reports it. */
export function hostPlatform(): Platform {
  return { architecture: ARCH[process.arch] ?? process.arch, os: 'linux' }
}
