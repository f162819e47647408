import { mkdtempSync, rmSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

const nowSec = () => Math.floor(Date.now() / 1000)
const lines = (s: string) => s.split('\n').filter(Boolean)

interface Msg {
  Type: string
  Action: string
  Actor: { ID: string; Attributes: Record<string, string> }
  scope: string
  time: number
  timeNano: number
  status?: string
  id?: string
  from?: string
}

describe.skipIf(skip)('events', () => {
  const name = containerNames()

  it('replays a window of container, volume, network and image events, filtered as docker filters', async () => {
    const n = name('ev')
    const n2 = name('ev2')
    const vol = uniq('evvol')
    const net = uniq('evnet')
    const tag = `${uniq('evtag')}:1`
    const since = String(nowSec() - 1)
    ok(await docker(['volume', 'create', vol]))
    ok(await docker(['network', 'create', net]))
    ok(await docker(['run', '--rm', '--name', n, '--label', 'evtest=one', '--label', 'second', '-v', `${vol}:/data`, '--network', net, 'busybox:latest', 'true']))
    ok(await berth(['run', '--rm', '--name', n2, '--label', 'evtest=two', 'busybox', 'true']))
    ok(await docker(['tag', 'busybox', tag]))
    ok(await docker(['rmi', tag]))
    ok(await docker(['volume', 'rm', vol]))
    ok(await docker(['network', 'rm', net]))
    const until = String(nowSec() + 1)
    const ev = async (args: string[], run = docker) => lines(ok(await run(['events', '--since', since, '--until', until, ...args])).stdout)

    expect(await ev(['--filter', `container=${n}`, '--format', '{{.Type}} {{.Action}}'])).toEqual(['container create', 'container attach', 'container start', 'container die', 'container destroy'])
    expect(await ev(['--filter', `volume=${vol}`, '--format', '{{.Action}}'])).toEqual(['create', 'mount', 'unmount', 'destroy'])
    expect(await ev(['--filter', `network=${net}`, '--format', '{{.Action}}'], berth)).toEqual(['create', 'connect', 'disconnect', 'destroy'])
    // Values of one key are alternatives; keys and labels must all match.
    expect(await ev(['--filter', 'label=evtest', '--filter', 'event=start', '--filter', 'event=destroy', '--format', '{{.Actor.Attributes.name}} {{.Action}}'])).toEqual([`${n} start`, `${n} destroy`, `${n2} start`, `${n2} destroy`])
    expect(await ev(['--filter', 'label=evtest', '--filter', 'label=second', '--filter', 'event=start', '--format', '{{.Actor.Attributes.name}}'])).toEqual([n])
    expect(await ev(['--filter', 'label=evtest=two', '--filter', 'type=container', '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}'], berth)).toEqual([n2])
    // image= matches the container's image with or without its tag.
    expect(await ev(['--filter', 'image=busybox', '--filter', 'event=create', '--filter', 'label=evtest', '--format', '{{.Actor.Attributes.name}}'])).toEqual([n, n2])
    const images = await ev(['--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}'])
    expect(images).toContain(`tag ${tag}`)
    expect(images.some((l) => l.startsWith('untag '))).toBe(true)
    expect(await ev(['--filter', `image=${tag}`, '--format', '{{.Action}}'])).toEqual(['tag'])
    expect(await ev(['--filter', 'scope=swarm', '--filter', `container=${n}`])).toEqual([])

    // docker's default line: time with nanoseconds, type, action, actor, sorted attributes.
    const plain = await ev(['--filter', `container=${n}`, '--filter', 'event=create'])
    expect(plain).toHaveLength(1)
    expect(plain[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container create [0-9a-f]{64} \\(evtest=one, image=busybox:latest, name=${n}, second=\\)$`))
    expect(await ev(['--filter', `container=${n}`, '--filter', 'event=create'], berth)).toEqual(plain)

    for (const run of [docker, berth]) {
      const [json] = await ev(['--filter', `container=${n}`, '--filter', 'event=die', '--format', '{{json .}}'], run)
      const m = JSON.parse(json!) as Msg
      expect(m).toMatchObject({ status: 'die', from: 'busybox:latest', Type: 'container', Action: 'die', scope: 'local', Actor: { Attributes: { exitCode: '0', name: n, image: 'busybox:latest' } } })
      expect(m.id).toBe(m.Actor.ID)
      expect(Math.floor(m.timeNano / 1e9)).toBe(m.time)
    }
  })

  it('has docker\'s image events: tag and import, save, load, untag and delete', async () => {
    const c = name('evexp')
    const dir = mkdtempSync('/var/tmp/berth-events-')
    const tag = `${uniq('evimp')}:1`
    try {
      const since = String(nowSec() - 1)
      ok(await docker(['create', '--name', c, 'busybox', 'true']))
      ok(await docker(['export', '-o', path.join(dir, 'fs.tar'), c]))
      const id = ok(await docker(['import', path.join(dir, 'fs.tar'), tag])).stdout.trim()
      ok(await docker(['save', '-o', path.join(dir, 'img.tar'), tag]))
      ok(await berth(['load', '-i', path.join(dir, 'img.tar')]))
      ok(await docker(['rmi', tag]))
      const until = String(nowSec() + 1)
      const actions = lines(ok(await docker(['events', '--since', since, '--until', until, '--filter', 'type=image', '--filter', `image=${id}`, '--format', '{{.Action}} {{.Actor.ID}}'])).stdout)
      expect(actions).toEqual(['tag', 'import', 'save', 'load', 'untag', 'delete'].map((a) => `${a} ${id}`))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('takes --since and --until as durations, Unix seconds and RFC 3339 times', async () => {
    const n = name('evtime')
    ok(await docker(['create', '--name', n, 'busybox', 'true']))
    const created = lines(ok(await docker(['events', '--since', '1m', '--until', String(nowSec() + 1), '--filter', `container=${n}`, '--format', '{{.TimeNano}}'])).stdout)
    expect(created).toHaveLength(1)
    const secs = Math.floor(Number(created[0]) / 1e9)
    const rfc = new Date((secs - 1) * 1000).toISOString().replace('.000Z', 'Z')
    for (const run of [docker, berth]) {
      expect(lines(ok(await run(['events', '--since', rfc, '--until', String(secs + 1), '--filter', `container=${n}`, '--format', '{{.Action}}'])).stdout)).toEqual(['create'])
      // A window ending before the container was made has none of its events.
      expect(lines(ok(await run(['events', '--since', '10m', '--until', String(secs - 1), '--filter', `container=${n}`])).stdout)).toEqual([])
    }
    for (const run of [docker, berth]) {
      const bad = await run(['events', '--since', String(secs + 10), '--until', String(secs)])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toBe(`Error response from daemon: \`since\` time (${secs + 10}) cannot be after \`until\` time (${secs})\n`)
    }
  })

  it('streams live events until --until', async () => {
    const n = name('evlive')
    const until = String(nowSec() + 6)
    const stream = docker(['events', '--until', until, '--filter', `container=${n}`, '--format', '{{.Action}}'], { timeoutMs: 20_000 })
    await new Promise((r) => setTimeout(r, 500))
    ok(await docker(['run', '--name', n, 'busybox', 'true']))
    const r = ok(await stream)
    expect(lines(r.stdout)).toEqual(['create', 'attach', 'start', 'die'])
  })
})
