// Volumes and mounts as a user uses them: named volumes that outlive their
// containers and are shared between them, anonymous volumes (-v /path and the
// image's VOLUME) filled from the image and removed with rm -v / --rm, binds
// read-write and read-only, tmpfs that keeps nothing, and docker's errors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { berth, docker, missing, ok, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

interface MountJson { Type: string; Name?: string; Source: string; Destination: string; Driver?: string; Mode: string; RW: boolean }

describe.skipIf(skip)('volumes and mounts', () => {
  const made: string[] = []
  const vols: string[] = []
  const cname = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  const vname = (p: string) => {
    const n = uniq(p)
    vols.push(n)
    return n
  }
  const host = mkdtempSync('/var/tmp/berth-bind-')

  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', '-v', ...made])
    for (const v of vols) await berth(['volume', 'rm', '-f', v])
    rmSync(host, { recursive: true, force: true })
  })

  test('a named volume is made on first use, outlives its container and is shared', async () => {
    const v = vname('vol-named')
    ok(await berth(['run', '--rm', '-v', `${v}:/vol`, 'busybox', 'sh', '-c', 'echo kept > /vol/f']))
    expect(ok(await berth(['run', '--rm', '-v', `${v}:/data`, 'busybox', 'cat', '/data/f'])).stdout).toBe('kept\n')
    // Two running containers see each other's writes.
    const a = cname('vol-a')
    const b = cname('vol-b')
    ok(await berth(['run', '-d', '--name', a, '-v', `${v}:/s`, 'busybox', 'sleep', '1d']))
    ok(await berth(['run', '-d', '--name', b, '-v', `${v}:/s`, 'busybox', 'sleep', '1d']))
    ok(await berth(['exec', a, 'sh', '-c', 'echo from-a > /s/shared']))
    expect(ok(await berth(['exec', b, 'cat', '/s/shared'])).stdout).toBe('from-a\n')
    const mounts = JSON.parse(ok(await berth(['inspect', '-f', '{{json .Mounts}}', a])).stdout) as MountJson[]
    expect(mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: v, Destination: '/s', Driver: 'local', RW: true })])
    expect(readFileSync(path.join(mounts[0]?.Source ?? '', 'shared'), 'utf8')).toBe('from-a\n')
    // In use: docker's 409.
    const busy = await berth(['volume', 'rm', v])
    expect(busy.code).not.toBe(0)
    expect(busy.stderr).toContain(`remove ${v}: volume is in use`)
    ok(await berth(['rm', '-f', a, b]))
    // Removing the containers (even with -v) keeps a named volume.
    expect(ok(await berth(['run', '--rm', '-v', `${v}:/d`, 'busybox', 'cat', '/d/shared'])).stdout).toBe('from-a\n')
  })

  test('--mount type=volume works through the docker CLI too', async (ctx) => {
    if (noDocker) return ctx.skip()
    const v = vname('vol-mount')
    ok(await docker(['run', '--rm', '--mount', `source=${v},target=/vol`, 'busybox', 'sh', '-c', 'echo via-mount > /vol/m']))
    expect(ok(await berth(['run', '--rm', '-v', `${v}:/x`, 'busybox', 'cat', '/x/m'])).stdout).toBe('via-mount\n')
  })

  test('an empty volume is filled from the image; /etc files of the container stay on top', async () => {
    const v = vname('vol-copy')
    const out = ok(await berth(['run', '--rm', '-v', `${v}:/bin`, 'busybox', '/bin/sh', '-c', 'ls /bin | grep -c . ; cat /etc/hostname'])).stdout.split('\n')
    expect(Number(out[0])).toBeGreaterThan(10)
    // nocopy: an empty volume stays empty.
    const n = vname('vol-nocopy')
    const empty = ok(await berth(['run', '--rm', '-v', `${n}:/etc/ssl:nocopy`, 'busybox', 'sh', '-c', 'ls -A /etc/ssl | wc -l'])).stdout.trim()
    expect(empty).toBe('0')
  })

  test('anonymous volumes: -v /path and rm -v; --rm removes them with the container', async () => {
    const c = cname('vol-anon')
    ok(await berth(['run', '-d', '--name', c, '-v', '/anon', 'busybox', 'sleep', '1d']))
    const m = (JSON.parse(ok(await berth(['inspect', '-f', '{{json .Mounts}}', c])).stdout) as MountJson[])[0]
    expect(m?.Type).toBe('volume')
    expect(m?.Name).toMatch(/^[0-9a-f]{64}$/)
    expect(ok(await berth(['volume', 'ls', '-q'])).stdout.split('\n')).toContain(m?.Name)
    ok(await berth(['rm', '-f', '-v', c]))
    expect(ok(await berth(['volume', 'ls', '-q'])).stdout.split('\n')).not.toContain(m?.Name)
    expect(existsSync(m?.Source ?? '/nonexistent-x')).toBe(false)
    // --rm: the anonymous volume goes when the container exits.
    const before = ok(await berth(['volume', 'ls', '-q'])).stdout
    ok(await berth(['run', '--rm', '-v', '/tmpvol', 'busybox', 'true']))
    expect(ok(await berth(['volume', 'ls', '-q'])).stdout).toBe(before)
  })

  test('--volumes-from shares a container\'s volumes and binds, read-only with :ro', async () => {
    const src = cname('vol-from-src')
    ok(await berth(['run', '-d', '--name', src, '-v', '/shared', '-v', `${host}:/hostdir`, 'busybox', 'sh', '-c', 'echo from-src > /shared/f; sleep 1d']))
    expect(ok(await berth(['run', '--rm', '--volumes-from', src, 'busybox', 'sh', '-c', 'cat /shared/f; ls -d /hostdir'])).stdout).toBe('from-src\n/hostdir\n')
    const ro = await berth(['run', '--rm', '--volumes-from', `${src}:ro`, 'busybox', 'sh', '-c', 'echo x > /shared/g'])
    expect(ro.code).not.toBe(0)
    expect(ro.stderr).toContain('Read-only file system')
    // The borrower's rm -v leaves the source's anonymous volume alone.
    const borrower = cname('vol-from-b')
    ok(await berth(['run', '-d', '--name', borrower, '--volumes-from', src, 'busybox', 'sleep', '1d']))
    ok(await berth(['rm', '-f', '-v', borrower]))
    expect(ok(await berth(['exec', src, 'cat', '/shared/f'])).stdout).toBe('from-src\n')
    const name = (JSON.parse(ok(await berth(['inspect', '-f', '{{json .Mounts}}', src])).stdout) as MountJson[]).find((m) => m.Destination === '/shared')?.Name ?? ''
    expect(ok(await berth(['volume', 'ls', '-q'])).stdout.split('\n')).toContain(name)
  })

  test('binds: read-write and read-only; -v makes a missing source, --mount refuses it', async () => {
    writeFileSync(path.join(host, 'in'), 'from host\n')
    expect(ok(await berth(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/in; echo back > /data/out'])).stdout).toBe('from host\n')
    expect(readFileSync(path.join(host, 'out'), 'utf8')).toBe('back\n')
    const ro = await berth(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'touch /data/nope'])
    expect(ro.code).not.toBe(0)
    expect(ro.stderr).toContain('Read-only file system')
    // A file bound with -v is the file (a missing source becomes a directory, an existing file stays one).
    expect(ok(await berth(['run', '--rm', '-v', `${path.join(host, 'in')}:/etc/motd`, 'busybox', 'cat', '/etc/motd'])).stdout).toBe('from host\n')
    const fresh = path.join(host, 'made', 'by', 'v')
    ok(await berth(['run', '--rm', '-v', `${fresh}:/m`, 'busybox', 'true']))
    expect(existsSync(fresh)).toBe(true)
    if (!noDocker) {
      const r = await docker(['run', '--rm', '--mount', `type=bind,source=${path.join(host, 'absent')},target=/x`, 'busybox', 'true'])
      expect(r.code).toBe(125)
      expect(r.stderr).toContain(`invalid mount config for type "bind": bind source path does not exist: ${path.join(host, 'absent')}`)
    }
  })

  test('tmpfs keeps nothing between runs and honours its size', async (ctx) => {
    if (noDocker) return ctx.skip()
    const c = cname('vol-tmpfs')
    ok(await docker(['run', '-d', '--name', c, '--tmpfs', '/scratch:size=64m', 'busybox', 'sleep', '1d']))
    expect(ok(await berth(['exec', c, 'df', '-k', '/scratch'])).stdout).toMatch(/tmpfs\s+65536\s/)
    ok(await berth(['exec', c, 'sh', '-c', 'echo x > /scratch/f']))
    ok(await berth(['restart', '-t', '0', c]))
    expect((await berth(['exec', c, 'cat', '/scratch/f'])).code).not.toBe(0)
  })

  test('volume prune reports the data it freed as docker counts it (file sizes, not blocks)', async () => {
    const label = uniq('prune-size')
    const v = vname('vol-prune')
    ok(await berth(['volume', 'create', '--label', label, v]))
    ok(await berth(['run', '--rm', '-v', `${v}:/d`, 'busybox', 'sh', '-c', 'printf 123456 > /d/f; mkdir /d/sub']))
    const out = ok(await berth(['volume', 'prune', '-a', '-f', '--filter', `label=${label}`])).stdout
    expect(out).toContain(`Deleted Volumes:\n${v}\n`)
    expect(out).toContain('Total reclaimed space: 6B')
  })

  test('bad -v specifications get docker\'s errors', async () => {
    const r1 = await berth(['run', '--rm', '-v', 'vol:relative', 'busybox', 'true'])
    expect(r1.code).toBe(125)
    expect(r1.stderr).toContain("mount path must be absolute")
    const r2 = await berth(['run', '--rm', '-v', `${host}:/a:bogus`, 'busybox', 'true'])
    expect(r2.code).toBe(125)
    expect(r2.stderr).toContain('invalid mode: bogus')
    const r3 = await berth(['run', '--rm', '-v', `${host}:/same`, '-v', 'x1:/same', 'busybox', 'true'])
    expect(r3.code).toBe(125)
    expect(r3.stderr).toContain('Duplicate mount point: /same')
  })
})
