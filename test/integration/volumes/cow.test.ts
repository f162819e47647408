// The copy-on-write container layer as a user relies on it: containers of one
// image diverge without seeing each other's changes or touching the image's
// layer directories; writes land only in the container's upper dir, whose
// size `ps -s` and `inspect --size` report as docker accounts it; diff and
// commit show and keep the changes; --read-only leaves only mounts writable.
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, containerNames, docker, missing, ok, sock, uniq } from '../../helpers.js'
import { api, dockerDirSize, duApparent, humanSize, treeListing } from './fs-helpers.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

/** The paths each container changes, and what the fingerprint prints for each. */
const PATHS = ['/etc/passwd', '/etc/group', '/bin/ls', '/bin/cat', '/newA', '/newB', '/dirB/x']
const FINGERPRINT = `for p in ${PATHS.join(' ')}; do if [ -L $p ]; then echo "$p link $(readlink $p)"; elif [ -f $p ]; then echo "$p $(md5sum < $p | cut -d' ' -f1)"; else echo "$p absent"; fi; done`

const md5 = (s: string) => createHash('md5').update(s).digest('hex')

function expected(files: Record<string, string | null | { link: string }>): string {
  return PATHS.map((p) => {
    const f = files[p]
    if (f === null || f === undefined) return `${p} absent`
    if (typeof f === 'object') return `${p} link ${f.link}`
    return `${p} ${md5(f)}`
  }).join('\n') + '\n'
}

interface DriverData { LowerDir?: string; UpperDir?: string; MergedDir?: string; WorkDir?: string }

async function imageLayerDirs(image: string): Promise<string[]> {
  const d = JSON.parse(ok(await berth(['image', 'inspect', '--format', '{{json .GraphDriver.Data}}', image])).stdout) as DriverData
  return [d.UpperDir ?? '', ...(d.LowerDir ?? '').split(':')].filter((p) => p !== '')
}

async function containerDriverData(c: string): Promise<DriverData> {
  return JSON.parse(ok(await berth(['inspect', '--format', '{{json .GraphDriver.Data}}', c])).stdout) as DriverData
}

describe.skipIf(skip)('the copy-on-write container layer', () => {
  const name = containerNames()
  const images: string[] = []
  const vols: string[] = []
  const host = mkdtempSync('/var/tmp/berth-cow-bind-')
  let layers: string[] = []
  const layerListing = () => layers.map((d) => treeListing(d)).join('\n')
  let pristineListing = ''
  let pristine = ''
  let passwd = ''
  let group = ''
  const a = name('cow-a')
  const b = name('cow-b')

  beforeAll(async () => {
    layers = await imageLayerDirs('busybox')
    expect(layers.length).toBeGreaterThan(0)
    for (const d of layers) expect(existsSync(d)).toBe(true)
    pristineListing = layerListing()
    passwd = ok(await berth(['run', '--rm', 'busybox', 'cat', '/etc/passwd'])).stdout
    group = ok(await berth(['run', '--rm', 'busybox', 'cat', '/etc/group'])).stdout
    pristine = expected({ '/etc/passwd': passwd, '/etc/group': group, '/bin/ls': { link: '/bin/busybox' }, '/bin/cat': { link: '/bin/busybox' } })
  })

  afterAll(async () => {
    if (images.length) await berth(['rmi', '-f', ...images])
    for (const v of vols) await berth(['volume', 'rm', '-f', v])
    rmSync(host, { recursive: true, force: true })
  })

  test('two containers of one image diverge; a new one sees the pristine image; the layers are untouched', async () => {
    // The image as a fresh container sees it (the busybox image links its applets to /bin/busybox).
    expect(ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', FINGERPRINT])).stdout).toBe(pristine)
    ok(await berth(['run', '-d', '--name', a, 'busybox', 'sleep', '1d']))
    ok(await berth(['run', '-d', '--name', b, 'busybox', 'sleep', '1d']))
    ok(await berth(['exec', a, 'sh', '-c', 'echo appended-by-a >> /etc/passwd && echo A-group > /etc/group && rm /bin/ls && echo A > /newA']))
    ok(await berth(['exec', b, 'sh', '-c', 'echo B > /etc/passwd && rm /etc/group /bin/cat && mkdir /dirB && echo x > /dirB/x && echo B > /newB']))
    const wantA = expected({ '/etc/passwd': `${passwd}appended-by-a\n`, '/etc/group': 'A-group\n', '/bin/cat': { link: '/bin/busybox' }, '/newA': 'A\n' })
    const wantB = expected({ '/etc/passwd': 'B\n', '/bin/ls': { link: '/bin/busybox' }, '/newB': 'B\n', '/dirB/x': 'x\n' })
    expect(ok(await berth(['exec', a, 'sh', '-c', FINGERPRINT])).stdout).toBe(wantA)
    expect(ok(await berth(['exec', b, 'sh', '-c', FINGERPRINT])).stdout).toBe(wantB)
    expect(ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', FINGERPRINT])).stdout).toBe(pristine)
    // A restart keeps each container's layer (and only its own).
    ok(await berth(['restart', '-t', '0', a]))
    expect(ok(await berth(['exec', a, 'sh', '-c', FINGERPRINT])).stdout).toBe(wantA)
    expect(ok(await berth(['exec', b, 'sh', '-c', FINGERPRINT])).stdout).toBe(wantB)
    expect(layerListing()).toBe(pristineListing)
  })

  test('writes land only in the container\'s upper dir', async () => {
    const d = await containerDriverData(a)
    const upper = d.UpperDir ?? ''
    const lowers = (d.LowerDir ?? '').split(':').filter(Boolean)
    expect(upper).not.toBe('')
    expect(lowers.length).toBeGreaterThan(0)
    expect(readFileSync(path.join(upper, 'newA'), 'utf8')).toBe('A\n')
    expect(readFileSync(path.join(upper, 'etc/passwd'), 'utf8')).toBe(`${passwd}appended-by-a\n`)
    for (const l of lowers) {
      expect(existsSync(path.join(l, 'newA'))).toBe(false)
      if (existsSync(path.join(l, 'etc/passwd'))) expect(readFileSync(path.join(l, 'etc/passwd'), 'utf8')).toBe(passwd)
    }
    // The image's own layers are among the container's lowers, and B's upper is not A's.
    for (const l of layers) expect(lowers).toContain(l)
    const ub = (await containerDriverData(b)).UpperDir ?? ''
    expect(ub).not.toBe(upper)
    expect(existsSync(path.join(ub, 'newA'))).toBe(false)
    expect(readFileSync(path.join(ub, 'newB'), 'utf8')).toBe('B\n')
  })

  test('container diff shows the changes as A/C/D', async () => {
    const diffA = ok(await berth(['diff', a])).stdout.trim().split('\n')
    for (const line of ['C /etc', 'C /etc/passwd', 'C /etc/group', 'C /bin', 'D /bin/ls', 'A /newA']) expect(diffA).toContain(line)
    expect(diffA.some((l) => /newB|dirB|\/bin\/cat/.test(l))).toBe(false)
    const diffB = ok(await berth(['container', 'diff', b])).stdout.trim().split('\n')
    for (const line of ['C /etc', 'C /etc/passwd', 'D /etc/group', 'D /bin/cat', 'A /dirB', 'A /dirB/x', 'A /newB']) expect(diffB).toContain(line)
    expect(diffB.some((l) => /newA|\/bin\/ls/.test(l))).toBe(false)
  })

  test('commit keeps the changes in a new image; the original image is unchanged', async () => {
    const img = uniq('cow-commit').toLowerCase()
    images.push(img)
    ok(await berth(['commit', a, img]))
    const wantA = expected({ '/etc/passwd': `${passwd}appended-by-a\n`, '/etc/group': 'A-group\n', '/bin/cat': { link: '/bin/busybox' }, '/newA': 'A\n' })
    expect(ok(await berth(['run', '--rm', img, 'sh', '-c', FINGERPRINT])).stdout).toBe(wantA)
    expect(ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', FINGERPRINT])).stdout).toBe(pristine)
    // The committed image stacks one new layer on busybox's, which stay as they were.
    const committed = await imageLayerDirs(img)
    for (const l of layers) expect(committed).toContain(l)
    expect(committed.length).toBe(layers.length + 1)
    // A container of the committed image writes to its own layer, not to the committed one.
    const top = committed.filter((d) => !layers.includes(d))
    const before = top.map((d) => treeListing(d))
    expect(ok(await berth(['run', '--rm', img, 'sh', '-c', `echo again >> /newA && rm /etc/group && ${FINGERPRINT}`])).stdout).toContain('/etc/group absent')
    expect(top.map((d) => treeListing(d))).toEqual(before)
    expect(layerListing()).toBe(pristineListing)
  })

  test('SizeRw is the upper dir as docker counts it; ps -s shows it with the virtual size', async () => {
    const s = name('cow-size')
    ok(await berth(['run', '--name', s, 'busybox', 'dd', 'if=/dev/zero', 'of=/f', 'bs=1M', 'count=5']))
    const upper = (await containerDriverData(s)).UpperDir ?? ''
    const counted = dockerDirSize(upper)
    expect(counted).toBeGreaterThanOrEqual(5 << 20)
    // Apparent bytes of the tree include the directories' own sizes, which docker does not count.
    expect(counted).toBeLessThanOrEqual(duApparent(upper))
    expect(duApparent(upper) - counted).toBeLessThan(64 << 10)
    const imageSize = Number(ok(await berth(['image', 'inspect', '--format', '{{.Size}}', 'busybox'])).stdout.trim())
    expect(imageSize).toBeGreaterThan(0)

    const [rw, rootfs] = ok(await berth(['inspect', '--size', '--format', '{{.SizeRw}} {{.SizeRootFs}}', s])).stdout.trim().split(' ').map(Number)
    expect(rw).toBe(counted)
    expect(rootfs).toBe(counted + imageSize)

    const id = ok(await berth(['inspect', '--format', '{{.Id}}', s])).stdout.trim()
    const r = await api(sock(), 'GET', `/v1.50/containers/json?all=1&size=1&filters=${encodeURIComponent(JSON.stringify({ id: [id] }))}`)
    expect(r.status).toBe(200)
    const list = JSON.parse(r.body.toString()) as Array<{ Id: string; SizeRw?: number; SizeRootFs?: number }>
    expect(list.map((c) => [c.Id, c.SizeRw, c.SizeRootFs])).toEqual([[id, counted, counted + imageSize]])
    // Without size=1 the sizes are left out, as docker does.
    const plain = JSON.parse((await api(sock(), 'GET', `/v1.50/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ id: [id] }))}`)).body.toString()) as Array<Record<string, unknown>>
    expect(plain[0]).not.toHaveProperty('SizeRw')

    const text = `${humanSize(counted)} (virtual ${humanSize(counted + imageSize)})`
    expect(text).toMatch(/^5\.24MB \(virtual \d+(\.\d+)?MB\)$/)
    expect(ok(await berth(['ps', '-a', '-s', '--filter', `id=${id}`, '--format', '{{.Size}}'])).stdout).toBe(`${text}\n`)
    const table = ok(await berth(['container', 'ls', '-a', '-s', '--filter', `id=${id}`])).stdout.split('\n')
    expect(table[0]).toMatch(/\bSIZE$/)
    expect(table[1]).toContain(text)
    if (!noDocker) {
      expect(ok(await docker(['ps', '-a', '-s', '--filter', `id=${id}`, '--format', '{{.Size}}'])).stdout).toBe(`${text}\n`)
      const dt = ok(await docker(['container', 'ls', '-a', '-s', '--filter', `id=${id}`])).stdout.split('\n')
      expect(dt[0]).toMatch(/\bSIZE$/)
      expect(dt[1]).toContain(text)
      expect(ok(await docker(['inspect', '--size', '--format', '{{.SizeRw}} {{.SizeRootFs}}', s])).stdout.trim()).toBe(`${counted} ${counted + imageSize}`)
    }
    // Removing the file again leaves a whiteout, which counts as nothing.
    const s2 = name('cow-size-rm')
    ok(await berth(['run', '--name', s2, 'busybox', 'rm', '/etc/passwd']))
    const up2 = (await containerDriverData(s2)).UpperDir ?? ''
    expect(Number(ok(await berth(['inspect', '--size', '--format', '{{.SizeRw}}', s2])).stdout.trim())).toBe(dockerDirSize(up2))
  })

  test('--read-only: the rootfs refuses writes, mounts inside stay writable', async () => {
    const v = uniq('cow-ro-vol')
    vols.push(v)
    const probe = 'for d in / /etc /tmp /vol /bind /scratch; do if touch $d/w-ro 2>/dev/null; then echo "$d rw"; else echo "$d ro"; fi; done; touch /x'
    const r = await berth(['run', '--rm', '--read-only', '-v', `${v}:/vol`, '-v', `${host}:/bind`, '--tmpfs', '/scratch', 'busybox', 'sh', '-c', probe])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('/ ro\n/etc ro\n/tmp ro\n/vol rw\n/bind rw\n/scratch rw\n')
    expect(r.stderr).toContain('Read-only file system')
    expect(existsSync(path.join(host, 'w-ro'))).toBe(true)
    expect(ok(await berth(['run', '--rm', '-v', `${v}:/v`, 'busybox', 'ls', '/v'])).stdout).toBe('w-ro\n')
    // /tmp is writable only as a tmpfs of its own.
    const t = await berth(['run', '--rm', '--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'touch /tmp/ok && echo tmp-ok; touch /etc/nope'])
    expect(t.stdout).toBe('tmp-ok\n')
    expect(t.stderr).toContain('Read-only file system')
    // A read-only volume inside a read-only root stays read-only.
    const ro = await berth(['run', '--rm', '--read-only', '-v', `${v}:/vol:ro`, 'busybox', 'touch', '/vol/no'])
    expect(ro.code).not.toBe(0)
    expect(ro.stderr).toContain('Read-only file system')
  })

  test('--read-only makes /etc/hosts, /etc/hostname and /etc/resolv.conf read-only too, as docker', async () => {
    // moby container.NetworkMounts: Writable = !HostConfig.ReadonlyRootfs unless a mount of the user's covers them.
    const r = await berth(['run', '--rm', '--read-only', 'busybox', 'sh', '-c', 'for f in /etc/hosts /etc/hostname /etc/resolv.conf; do if echo >> $f 2>/dev/null; then echo "$f rw"; else echo "$f ro"; fi; done'])
    expect(r.stdout).toBe('/etc/hosts ro\n/etc/hostname ro\n/etc/resolv.conf ro\n')
    const rw = ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo "10.9.9.9 extra" >> /etc/hosts && tail -n1 /etc/hosts'])).stdout
    expect(rw).toBe('10.9.9.9 extra\n')
  })

  test('after all of the above the image\'s layer directories are as they were', () => {
    expect(layerListing()).toBe(pristineListing)
  })
})
