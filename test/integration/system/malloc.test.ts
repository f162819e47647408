/**
 * bin/berthd runs berthd on Debian's jemalloc (memory goes back to the kernel
 * after a busy spell; docs/bench.md), and only berthd: the conmon it starts
 * for a container carries neither the library nor the preload.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { berth, containerNames, missing, ok } from '../../helpers.js'

const skip = missing('root', 'daemon')
const jemalloc = readdirSync('/usr/lib').map((d) => `/usr/lib/${d}/libjemalloc.so.2`).find((p) => existsSync(p))
if (!skip && !jemalloc) console.warn('skipping the allocator test: libjemalloc2 is not installed (scripts/install-deps installs it)')

describe.skipIf(skip || !jemalloc)('berthd on jemalloc', () => {
  const name = containerNames()

  it('maps jemalloc in berthd and not in the monitors it starts', async () => {
    const pid = readFileSync(path.join(inject('berthExecRoot'), 'berthd.pid'), 'utf8').trim()
    expect(readFileSync(`/proc/${pid}/maps`, 'utf8')).toContain('libjemalloc.so.2')
    const c = name('malloc')
    ok(await berth(['run', '-d', '--name', c, 'busybox', 'sleep', '1d']))
    const init = ok(await berth(['inspect', '-f', '{{.State.Pid}}', c])).stdout.trim()
    // The container's first process is conmon's child.
    const conmon = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${init}/status`, 'utf8'))?.[1] ?? ''
    expect(readFileSync(`/proc/${conmon}/cmdline`, 'utf8')).toMatch(/conmon/)
    expect(readFileSync(`/proc/${conmon}/maps`, 'utf8')).not.toContain('libjemalloc')
    const environ = readFileSync(`/proc/${conmon}/environ`, 'utf8').split('\0')
    expect(environ.filter((e) => /^(LD_PRELOAD|MALLOC_CONF|BERTH_JEMALLOC)=/.test(e))).toEqual([])
  })
})
