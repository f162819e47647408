// docker cp's archive API against hostile paths and tars: symlinks in the
// container that name host paths (absolute, climbing, to /etc), tar entries
// that climb out, symlink-then-write tricks, hard links out, type changes
// under noOverwriteDirNonDir, malformed tars, and a container swapping a
// directory for a link while cp runs. Whatever happens, every path resolves
// inside the container and a sentinel directory on the host stays exactly as
// it was.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest'
import { berth, containerNames, missing, ok, sock, uniq } from '../../helpers.js'
import { api, fsHelpers, message, mountsAt, pathStat, settled, tarOf, treeListing, untar, type Body, type Reply } from './fs-helpers.js'

const skip = missing('root', 'daemon')

/** Whether Go's os.FileMode bit (os.ModeDir is 31, os.ModeSymlink 27) is set; past JS's 32-bit signed bitwise range. */
const hasBit = (mode: number, bit: number) => Math.floor(mode / 2 ** bit) % 2 === 1

describe.skipIf(skip)('cp: hostile paths and archives', () => {
  const name = containerNames()
  const sentinel = `/var/tmp/${uniq('berth-sentinel')}`
  const climbing = `../../../../..${sentinel}`
  let listing = ''
  let hostPasswd = ''
  let imagePasswd = ''

  const archive = (id: string, p: string, extra = '') => `/v1.50/containers/${id}/archive?path=${encodeURIComponent(p)}${extra}`
  const get = (id: string, p: string) => api(sock(), 'GET', archive(id, p))
  const head = (id: string, p: string) => api(sock(), 'HEAD', archive(id, p))
  const put = (id: string, p: string, body: Body, extra = '') => api(sock(), 'PUT', archive(id, p, extra), body, { 'Content-Type': 'application/x-tar' })
  const sh = async (c: string, cmd: string) => ok(await berth(['exec', c, 'sh', '-c', cmd])).stdout

  /** Where a name may exist on the host after a write: only in a container's upper dir, never anywhere else berth keeps files. */
  const hostCopies = (file: string): string[] => {
    const base = path.dirname(inject('berthDataRoot'))
    const found = execFileSync('find', [base, '-xdev', '-name', file]).toString().split('\n').filter(Boolean)
    for (const p of ['/', '/var/tmp', '/tmp', '/run', sentinel, path.dirname(base)]) if (existsSync(path.join(p, file))) found.push(path.join(p, file))
    return found
  }
  const upperOf = async (c: string) => ok(await berth(['inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', c])).stdout.trim()

  /** A container with /abs -> sentinel, /rel -> ../../../../sentinel and /etclink -> /etc: running, or exited once it made them. */
  async function linked(prefix: string, running = true): Promise<string> {
    const c = name(prefix)
    const links = `ln -s ${sentinel} /abs && ln -s ${climbing} /rel && ln -s /etc /etclink`
    if (running) {
      ok(await berth(['run', '-d', '--name', c, 'busybox', 'sleep', '1d']))
      await sh(c, links)
    } else {
      ok(await berth(['run', '--name', c, 'busybox', 'sh', '-c', links]))
    }
    return c
  }

  beforeAll(async () => {
    mkdirSync(sentinel, { mode: 0o755 })
    writeFileSync(path.join(sentinel, 'secret'), 'host secret\n')
    mkdirSync(path.join(sentinel, 'sub'))
    writeFileSync(path.join(sentinel, 'sub', 'inner'), 'inner\n')
    listing = treeListing(sentinel)
    hostPasswd = readFileSync('/etc/passwd', 'utf8')
    imagePasswd = ok(await berth(['run', '--rm', 'busybox', 'cat', '/etc/passwd'])).stdout
    expect(imagePasswd).not.toBe(hostPasswd)
  })

  afterEach(() => {
    expect(treeListing(sentinel)).toBe(listing)
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(hostPasswd)
  })

  afterAll(() => {
    rmSync(sentinel, { recursive: true, force: true })
  })

  for (const running of [true, false]) {
    const state = running ? 'running' : 'stopped'

    test(`GET through symlinks resolves inside the ${state} container`, async () => {
      const c = await linked(`hostile-get-${state}`, running)
      for (const p of ['/abs/secret', '/rel/secret', '/abs/sub/inner', '/rel/sub/', '/abs/', '/abs/.']) {
        const r = await get(c, p)
        expect([p, r.status]).toEqual([p, 404])
        expect(message(r)).toContain(`Could not find the file ${p} in container ${c}`)
        expect((await head(c, p)).status).toBe(404)
      }
      // /etc through a link is the container's /etc: busybox's passwd, not the host's.
      const r = await get(c, '/etclink/passwd')
      expect(r.status).toBe(200)
      expect(pathStat(r)).toMatchObject({ name: 'passwd', linkTarget: '' })
      const entries = await untar(r.body)
      expect(entries.map((e) => [e.name, e.type])).toEqual([['passwd', 'file']])
      expect(entries[0]?.data.toString()).toBe(imagePasswd)
      const dir = await get(c, '/etclink/')
      expect(dir.status).toBe(200)
      const names = (await untar(dir.body)).map((e) => e.name)
      // Rebased on the name asked for, as docker's TarResourceRebase.
      expect(names).toContain('etclink/passwd')
      expect(names).toContain('etclink/group')
      // The link itself, without a trailing slash, is a link.
      const self = await get(c, '/etclink')
      expect(self.status).toBe(200)
      expect((await untar(self.body)).map((e) => [e.name, e.type, e.linkname])).toEqual([['etclink', 'symlink', '/etc']])
    })

    test(`HEAD of a link to a host path reports its target as a path of the ${state} container`, async () => {
      const c = await linked(`hostile-head-${state}`, running)
      for (const p of ['/abs', '/rel']) {
        const r = await head(c, p)
        expect(r.status).toBe(200)
        const st = pathStat(r)
        expect(st.name).toBe(p.slice(1))
        expect(st.linkTarget).toBe(sentinel)
        expect(hasBit(st.mode, 27)).toBe(true)
        expect(r.body.length).toBe(0)
      }
      const etc = pathStat(await head(c, '/etclink'))
      expect(etc.linkTarget).toBe('/etc')
      const st = pathStat(await head(c, '/etclink/'))
      expect(hasBit(st.mode, 31)).toBe(true)
      // A stopped container's filesystem is not left mounted, nor any helper around, once the copy is done.
      if (!running) {
        const merged = ok(await berth(['inspect', '--format', '{{.GraphDriver.Data.MergedDir}}', c])).stdout.trim()
        expect(await settled(() => mountsAt(merged))).toEqual([])
      }
      expect(await settled(() => fsHelpers(inject('berthDataRoot')))).toEqual([])
    })
  }

  test('PUT of a tar entry climbing out of / lands at the container\'s root', async () => {
    const c = await linked('hostile-climb')
    const file = uniq('escape')
    const r = await put(c, '/', tarOf([{ name: `../../${file}`, data: 'climbed\n' }]))
    expect(r.status).toBe(200)
    expect(await sh(c, `cat /${file}`)).toBe('climbed\n')
    expect(hostCopies(file)).toEqual([path.join(await upperOf(c), file)])
    // Under a subdirectory the climb either stays in the container or is refused; never on the host.
    const deep = uniq('escape-deep')
    const r2 = await put(c, '/tmp', tarOf([{ name: `../../../${deep}`, data: 'deep\n' }]))
    if (r2.status === 200) expect(await sh(c, `cat /${deep} /tmp/${deep} 2>/dev/null; true`)).toBe('deep\n')
    else expect(r2.status).toBeGreaterThanOrEqual(400)
    const up = await upperOf(c)
    expect(hostCopies(deep).filter((p) => !p.startsWith(`${up}/`))).toEqual([])
  })

  test('a symlink entry to a host path followed by a file under it writes inside the container', async () => {
    const c = await linked('hostile-symlink-tar')
    const l = uniq('l')
    const r = await put(c, '/', tarOf([
      { name: l, type: 'symlink', linkname: sentinel },
      { name: `${l}/pwned`, data: 'pwned\n' },
      { name: `${l}/secret`, data: 'overwritten\n' },
    ]))
    expect([r.status, message(r)]).toEqual([200, ''])
    expect(await sh(c, `readlink /${l}; cat ${sentinel}/pwned ${sentinel}/secret`)).toBe(`${sentinel}\npwned\noverwritten\n`)
    // The same through the relative link, and through the container's own link /abs.
    const r2 = await put(c, '/', tarOf([{ name: 'rel2', type: 'symlink', linkname: climbing }, { name: 'rel2/sub/inner', data: 'not the host\n' }, { name: 'abs/via-abs', data: 'via abs\n' }]))
    expect(r2.status).toBe(200)
    expect(await sh(c, `cat ${sentinel}/sub/inner ${sentinel}/via-abs`)).toBe('not the host\nvia abs\n')
  })

  test('a hard link entry naming a host path links the container\'s file', async () => {
    const c = await linked('hostile-hardlink')
    const nlink = statSync('/etc/passwd').nlink
    const hl = uniq('hl')
    // Link names are paths of the archive's root (here the container's /), however they climb.
    const r = await put(c, '/', tarOf([{ name: hl, type: 'link', linkname: '../../../../../../etc/passwd' }, { name: `${hl}-2`, type: 'link', linkname: '/etc/group' }]))
    expect([r.status, message(r)]).toEqual([200, ''])
    expect(await sh(c, `cat /${hl}`)).toBe(imagePasswd)
    expect(await sh(c, `stat -c %h /etc/passwd /etc/group`)).toBe('2\n2\n')
    expect(statSync('/etc/passwd').nlink).toBe(nlink)
    // A link to the host sentinel, directly or through the container's symlink, finds nothing there.
    for (const target of ['abs/secret', 'rel/secret', `${sentinel}/secret`]) {
      const r2 = await put(c, '/', tarOf([{ name: uniq('hl3'), type: 'link', linkname: target }]))
      expect([target, r2.status >= 400]).toEqual([target, true])
    }
    expect(statSync(path.join(sentinel, 'secret')).nlink).toBe(1)
  })

  test('PUT to a container symlink naming a host dir: 404 until the container has that dir, then into it', async () => {
    const c = await linked('hostile-put-link')
    const tar = tarOf([{ name: 'put-via-link', data: 'in the container\n' }])
    const r = await put(c, '/abs', tar)
    expect(r.status).toBe(404)
    expect(message(r)).toContain('Could not find the file /abs in container')
    expect((await put(c, '/rel', tar)).status).toBe(404)
    await sh(c, `mkdir -p ${sentinel}`)
    expect((await put(c, '/abs', tar)).status).toBe(200)
    expect((await put(c, '/rel/', tarOf([{ name: 'put-via-rel', data: 'rel\n' }]))).status).toBe(200)
    expect(await sh(c, `cat ${sentinel}/put-via-link ${sentinel}/put-via-rel`)).toBe('in the container\nrel\n')
    // A file as the destination is refused.
    const f = await put(c, '/etclink/passwd', tar)
    expect(f.status).toBe(400)
    expect(message(f)).toContain('extraction point is not a directory')
  })

  test('noOverwriteDirNonDir refuses to change a directory into a file and back', async () => {
    const c = await linked('hostile-nooverwrite')
    await sh(c, 'mkdir -p /tmp/dd/sub && echo f > /tmp/ff')
    const r = await put(c, '/tmp', tarOf([{ name: 'dd', data: 'now a file\n' }]), '&noOverwriteDirNonDir=true')
    expect(r.status).toBeGreaterThanOrEqual(400)
    expect(message(r)).toContain('cannot overwrite directory')
    const r2 = await put(c, '/tmp', tarOf([{ name: 'ff', type: 'dir' }]), '&noOverwriteDirNonDir=true')
    expect(r2.status).toBeGreaterThanOrEqual(400)
    expect(message(r2)).toContain('cannot overwrite non-directory')
    expect(await sh(c, 'ls -d /tmp/dd/sub; cat /tmp/ff')).toBe('/tmp/dd/sub\nf\n')
    // Without the flag the entry replaces what is there, as docker's untar does.
    expect((await put(c, '/tmp', tarOf([{ name: 'dd', data: 'now a file\n' }]))).status).toBe(200)
    expect(await sh(c, 'cat /tmp/dd')).toBe('now a file\n')
  })

  test('symlinks inside a bind mount resolve inside the container too', async () => {
    const bind = `${sentinel}-bind`
    mkdirSync(bind)
    try {
      execFileSync('ln', ['-s', '/', path.join(bind, 'up')])
      execFileSync('ln', ['-s', sentinel, path.join(bind, 'sentinel')])
      const c = name('hostile-bind')
      ok(await berth(['run', '-d', '--name', c, '-v', `${bind}:/bind`, 'busybox', 'sleep', '1d']))
      const r = await get(c, '/bind/up/etc/passwd')
      expect(r.status).toBe(200)
      expect((await untar(r.body))[0]?.data.toString()).toBe(imagePasswd)
      expect((await get(c, '/bind/sentinel/secret')).status).toBe(404)
      expect((await get(c, '/bind/../../bind/up/../../etc/passwd')).status).toBe(200)
      expect((await put(c, '/bind/up/tmp', tarOf([{ name: 'via-bind', data: 'container tmp\n' }]))).status).toBe(200)
      expect(await sh(c, 'cat /tmp/via-bind')).toBe('container tmp\n')
      expect(existsSync('/tmp/via-bind')).toBe(false)
      expect((await put(c, '/bind/sentinel', tarOf([{ name: 'x', data: 'x' }]))).status).toBe(404)
      // Writes into the bind itself do reach its host directory, as they should.
      expect((await put(c, '/bind', tarOf([{ name: 'into-bind', data: 'bound\n' }]))).status).toBe(200)
      expect(readFileSync(path.join(bind, 'into-bind'), 'utf8')).toBe('bound\n')
    } finally {
      rmSync(bind, { recursive: true, force: true })
    }
  })

  /**
   * The symlink-exchange race of CVE-2018-15664: cp resolves a path, then a
   * process of the container replaces a directory on it with a link to a host
   * path (absolute or climbing), then the copy follows the link. Something
   * swaps `<seen>/d` of container c over and over while cp reads and writes
   * there `rounds` times; nothing may come from or go to the host.
   */
  async function race(c: string, seen: string, rounds: number): Promise<void> {
    const target = `${sentinel}-race-${c.slice(-6)}`
    mkdirSync(target)
    writeFileSync(path.join(target, 'secret'), 'host secret\n')
    const before = treeListing(target)
    const leaked: string[] = []
    // Any request may fail (the path changes under it, a reply may be cut); only what reaches the host counts.
    const quietly = <T>(p: Promise<T>) => p.catch(() => undefined)
    try {
      for (let i = 0; i < rounds; i++) {
        const g = await quietly(get(c, `${seen}/d/secret`))
        if (g?.status === 200 && g.body.includes('host secret')) leaked.push(`GET ${seen}/d/secret #${i}`)
        await quietly(put(c, seen, tarOf([{ name: `d/pwned-${i}`, data: 'pwned\n' }])))
        await quietly(put(c, `${seen}/d`, tarOf([{ name: `direct-${i}`, data: 'pwned\n' }])))
        if (existsSync(path.join(target, `pwned-${i}`))) leaked.push(`PUT ${seen} d/pwned-${i}`)
        if (existsSync(path.join(target, `direct-${i}`))) leaked.push(`PUT ${seen}/d direct-${i}`)
      }
      expect(leaked).toEqual([])
      expect(treeListing(target)).toBe(before)
    } finally {
      rmSync(target, { recursive: true, force: true })
    }
  }

  const swapLoop = (dir: string, target: string) =>
    `mkdir -p ${dir}; while :; do mkdir ${dir}/d 2>/dev/null && echo container > ${dir}/d/secret; rm -rf ${dir}/d; ln -s ${target} ${dir}/d; rm -f ${dir}/d; ln -s ../../../../../../../../..${target} ${dir}/d; rm -f ${dir}/d; done`

  test('a running container swapping a directory for a link to a host path while cp runs never reaches the host', async () => {
    const c = name('hostile-race')
    ok(await berth(['run', '-d', '--name', c, 'busybox', 'sh', '-c', swapLoop('/tmp/race', `${sentinel}-race-${c.slice(-6)}`)]))
    try {
      await race(c, '/tmp/race', 150)
    } finally {
      // Its loop spins: stop it now rather than after the other tests.
      await berth(['rm', '-f', c])
    }
  })

  test('another container swapping a directory in a shared volume never makes cp of a stopped container reach the host', async () => {
    const vol = uniq('hostile-race-vol')
    const c = name('hostile-race-stopped')
    const swapper = name('hostile-race-swapper')
    try {
      ok(await berth(['create', '--name', c, '-v', `${vol}:/vol`, 'busybox', 'true']))
      ok(await berth(['run', '-d', '--name', swapper, '-v', `${vol}:/shared`, 'busybox', 'sh', '-c', swapLoop('/shared', `${sentinel}-race-${c.slice(-6)}`)]))
      await race(c, '/vol', 100)
    } finally {
      await berth(['rm', '-f', c, swapper])
      await berth(['volume', 'rm', '-f', vol])
    }
  })

  test('malformed tars get an error; the container and the daemon carry on', async () => {
    const c = await linked('hostile-garbage')
    const stopped = await linked('hostile-garbage-stopped', false)
    const full = tarOf([{ name: 'trunc', data: Buffer.alloc(10_000, 0x62) }])
    const bad: Array<[string, Body]> = [
      ['garbage', Buffer.from('this is not a tar archive\n'.repeat(100))],
      ['truncated data', full.subarray(0, 512 + 100)],
      ['truncated header', full.subarray(0, 300)],
      ['bad checksum', Buffer.concat([Buffer.from(full.subarray(0, 512)).fill(0x31, 148, 156), full.subarray(512)])],
    ]
    for (const target of [c, stopped]) {
      for (const [what, body] of bad) {
        const r: Reply = await put(target, '/tmp', body)
        expect([what, r.status >= 400 && r.status < 600]).toEqual([what, true])
        expect(message(r)).not.toBe('')
      }
    }
    const ping = await api(sock(), 'GET', '/_ping')
    expect([ping.status, ping.body.toString()]).toEqual([200, 'OK'])
    expect(await sh(c, 'echo alive')).toBe('alive\n')
    expect((await put(c, '/tmp', tarOf([{ name: 'good', data: 'good\n' }]))).status).toBe(200)
    expect(await sh(c, 'cat /tmp/good')).toBe('good\n')
    // The stopped one is not left mounted and still starts.
    const merged = ok(await berth(['inspect', '--format', '{{.GraphDriver.Data.MergedDir}}', stopped])).stdout.trim()
    expect(await settled(() => mountsAt(merged))).toEqual([])
    expect(await settled(() => fsHelpers(inject('berthDataRoot')))).toEqual([])
    ok(await berth(['start', stopped]))
  })
})
