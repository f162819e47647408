import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDb } from '../db/index.js'
import { isKind } from '../errors/index.js'
import { EventBus } from '../events/index.js'
import { nullLogger } from '../lib/index.js'
import type { AttachStream, ExitInfo, ImagesPort, RuntimePort } from './ports.js'
import { ContainerService } from './service.js'
import { ContainerStore } from './store.js'
import type { ContainerSpec } from './types.js'

/** A runtime that records calls; a test decides when processes exit. */
class FakeRuntime implements RuntimePort {
  calls: string[] = []
  private exitCb: (id: string, info: ExitInfo) => void = () => {}
  /** Signals that make the fake process exit, with the code. */
  exitOn: Record<string, number> = { SIGKILL: 137 }

  async create(o: { id: string }) {
    this.calls.push(`create ${o.id.slice(0, 4)}`)
    return { pid: 4242 }
  }
  async start(id: string) {
    this.calls.push(`start ${id.slice(0, 4)}`)
  }
  async kill(id: string, signal: string) {
    this.calls.push(`kill ${signal}`)
    const code = this.exitOn[signal]
    if (code !== undefined) setImmediate(() => this.exit(id, code))
  }
  async delete() {}
  async attach(id: string): Promise<AttachStream> {
    this.calls.push(`attach ${id.slice(0, 4)}`)
    return { onData: () => {}, onEnd: () => {}, writeStdin: () => {}, closeStdin: () => {}, close: () => {} }
  }
  async resize() {}
  async exec(): Promise<never> {
    throw new Error('not in this fake')
  }
  onExit(cb: (id: string, info: ExitInfo) => void) {
    this.exitCb = cb
  }
  async restore() {
    return []
  }
  async pids() {
    return [4242]
  }
  exit(id: string, exitCode: number) {
    this.exitCb(id, { exitCode, exitedAt: new Date() })
  }
}

const images: ImagesPort = {
  resolveForContainer: (ref) => {
    if (ref !== 'busybox') throw Object.assign(new Error(`No such image: ${ref}:latest`), {})
    return { id: 'sha256:img', config: { Cmd: ['sh'], Env: ['PATH=/bin', 'A=image'], WorkingDir: '/w', Labels: { from: 'image' } } }
  },
  rootfsFor: async () => [],
  rootfsMountpoint: (id) => `/nonexistent/${id}/merged`,
  releaseRootfs: async () => {},
  rootfsOwners: () => [],
  rootfsUsage: async () => 0,
  imageSize: () => 0,
}

function spec(over: Partial<ContainerSpec> = {}, host: Partial<ContainerSpec['host']> = {}): ContainerSpec {
  return {
    image: 'busybox', hostname: '', domainname: '', user: '', env: [], cmd: null, entrypoint: null, workingDir: '', labels: {},
    tty: false, openStdin: false, stdinOnce: false, attachStdin: false, attachStdout: true, attachStderr: true, stopSignal: '',
    stopTimeout: null, exposedPorts: [], volumes: [], onBuild: null, networks: {}, ...over,
    host: {
      autoRemove: false, restartPolicy: { name: '', maximumRetryCount: 0 }, network: { kind: 'none' }, networkModeName: 'none',
      pid: { kind: 'private' }, ipc: { kind: 'private' }, uts: { kind: 'private' }, privileged: false, capAdd: [], capDrop: [],
      readonlyRootfs: false, init: false, runtime: '', portBindings: {}, publishAllPorts: false, binds: [],
      mounts: [], volumesFrom: [], logConfig: { type: '', config: {} }, shmSize: 0, consoleSize: [0, 0], groupAdd: [], dns: [], dnsSearch: [], dnsOptions: [],
      extraHosts: [], links: [], oomScoreAdj: 0, securityOpt: [], tmpfs: {}, sysctls: {}, resources: {}, ...host,
    },
  }
}

describe('ContainerService', () => {
  let dir: string
  let rt: FakeRuntime
  let svc: ContainerService
  let events: EventBus
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-svc-'))
    rt = new FakeRuntime()
    events = new EventBus()
    svc = build()
  })
  /** A service over an empty in-memory store, the fake runtime and these images. */
  const build = (imgs: ImagesPort = images) =>
    new ContainerService({
      store: new ContainerStore(openDb(':memory:')),
      images: imgs,
      runtime: rt,
      specs: { container: async () => ({}), execProcess: async () => ({}) },
      mounts: { mount: async () => {}, unmount: async () => {} },
      volumes: { ensure: async () => {}, createAnonymous: async () => 'anon', acquire: async (n) => `/nonexistent/${n}`, release: async () => {}, remove: async () => {}, copyUp: async () => {} },
      // The containers here run with --network none: nothing to attach.
      network: { validate: (ns) => ns.map((n) => n.name), attach: async () => ({ netnsPath: '', hosts: [], nameservers: null }), detach: async () => {}, connect: async () => ({ netnsPath: '', hosts: [], nameservers: null }), disconnect: async () => {}, renamed: () => {} },
      events,
      logger: nullLogger,
      dataRoot: dir,
      defaultRuntime: 'runc',
      runtimes: ['runc', 'crun'],
    })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('merges the image config into the container', async () => {
    const { id } = await svc.create(spec({ env: ['A=mine', 'B=2'], labels: { l: '1' } }), 'c1')
    const rec = svc.get('c1')
    expect(rec.id).toBe(id)
    expect(rec.path).toBe('sh')
    // moby merge: the user's entries, then the image's that the user did not set.
    expect(rec.effective.env).toEqual(['A=mine', 'B=2', 'PATH=/bin'])
    expect(rec.effective.workingDir).toBe('/w')
    expect(rec.effective.labels).toEqual({ from: 'image', l: '1' })
    expect(rec.spec.hostname).toBe(id.slice(0, 12))
    // An entrypoint given at create drops the image's CMD, as docker does.
    await svc.create(spec({ entrypoint: ['echo'] }), 'c2')
    expect([svc.get('c2').path, ...svc.get('c2').args]).toEqual(['echo'])
    // `--entrypoint ""` clears the image's entrypoint and runs the command by itself.
    await svc.create(spec({ entrypoint: [''], cmd: ['echo', 'x'] }), 'c3')
    expect([svc.get('c3').path, ...svc.get('c3').args]).toEqual(['echo', 'x'])
    expect(svc.get('c3').effective.entrypoint).toBeNull()
  })

  it('refuses duplicate names, bad names and unknown runtimes', async () => {
    await svc.create(spec(), 'dup')
    await expect(svc.create(spec(), 'dup')).rejects.toSatisfy((e: unknown) => isKind(e, 'conflict'))
    await expect(svc.create(spec(), 'bad/name')).rejects.toThrow(/Invalid container name/)
    await expect(svc.create(spec({}, { runtime: 'nope' }))).rejects.toThrow(/unknown or invalid runtime name: nope/)
  })

  it('holds a name from the start of create: concurrent creates never share one', async () => {
    // Creates that overlap (image lookups await) each get their own name, chosen or generated.
    const same = await Promise.allSettled([svc.create(spec(), 'race'), svc.create(spec(), 'race')])
    expect(same.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    const made = await Promise.all(Array.from({ length: 300 }, () => svc.create(spec())))
    const names = new Set(made.map(({ id }) => svc.get(id).name))
    expect(names.size).toBe(300)
    // A name whose create failed is free again.
    await expect(svc.create(spec({ image: 'nosuch' }), 'freed')).rejects.toThrow()
    await svc.create(spec(), 'freed')
  })

  it("refuses docker's Linux-only isolation values, empty annotation keys and storage options", async () => {
    await expect(svc.create(spec({}, { isolation: 'hyperv' }))).rejects.toThrow("invalid isolation 'hyperv' on linux")
    await svc.create(spec({}, { isolation: 'Default' }))
    await expect(svc.create(spec({}, { annotations: { '': 'x' } }))).rejects.toThrow('invalid Annotations: the empty string is not permitted as an annotation key')
    await expect(svc.create(spec({}, { storageOpt: { foo: '1', size: '1G' } }))).rejects.toThrow("--storage-opt is supported only for overlay over xfs with 'pquota' mount option")
    await expect(svc.create(spec({}, { storageOpt: { Foo: '1' } }))).rejects.toThrow('Unknown option foo')
  })

  it('connects early attach clients between create and start', async () => {
    await svc.create(spec(), 'att')
    const sock = new PassThrough()
    await svc.attach('att', sock, Buffer.alloc(0), { stdin: false, stdout: true, stderr: true, stream: true, logs: false, write: () => {} })
    await svc.start('att')
    const id = svc.get('att').id.slice(0, 4)
    expect(rt.calls).toEqual([`create ${id}`, `attach ${id}`, `start ${id}`])
  })

  it('moves through running and exited, and wakes waiters', async () => {
    await svc.create(spec(), 'ww')
    // A created container is not running: that wait answers at once.
    expect(await svc.wait('ww', 'not-running')).toEqual({ statusCode: 0 })
    const nextExit = svc.wait('ww', 'next-exit')
    await svc.start('ww')
    const notRunning = svc.wait('ww', 'not-running')
    expect(svc.get('ww').state.status).toBe('running')
    await expect(svc.start('ww')).rejects.toSatisfy((e: unknown) => isKind(e, 'not-modified'))
    rt.exit(svc.get('ww').id, 3)
    expect(await notRunning).toEqual({ statusCode: 3 })
    expect(await nextExit).toEqual({ statusCode: 3 })
    expect(svc.get('ww').state).toMatchObject({ status: 'exited', exitCode: 3, pid: 0 })
    expect(await svc.wait('ww', 'not-running')).toEqual({ statusCode: 3 })
  })

  it('removes an AutoRemove container on exit and answers wait removed', async () => {
    const { id } = await svc.create(spec({}, { autoRemove: true }), 'rm')
    const removed = svc.wait('rm', 'removed')
    await svc.start('rm')
    rt.exit(id, 0)
    expect(await removed).toEqual({ statusCode: 0 })
    expect(() => svc.get(id)).toThrow(/No such container/)
  })

  it('stops with the stop signal, then SIGKILL after the timeout', async () => {
    await svc.create(spec({ stopSignal: 'SIGUSR1' }), 'ss')
    await svc.start('ss')
    rt.exitOn = { SIGKILL: 137 }
    await svc.stop('ss', { timeout: 0.05 })
    expect(rt.calls.filter((c) => c.startsWith('kill'))).toEqual(['kill SIGUSR1', 'kill SIGKILL'])
    expect(svc.get('ss').state).toMatchObject({ status: 'exited', exitCode: 137, stoppedByUser: true })
    await expect(svc.stop('ss')).rejects.toSatisfy((e: unknown) => isKind(e, 'not-modified'))
  })

  it('restarts on failure up to the retry count, not after a user stop', async () => {
    const { id } = await svc.create(spec({}, { restartPolicy: { name: 'on-failure', maximumRetryCount: 2 } }), 'rr')
    await svc.start('rr')
    for (let i = 0; i < 3; i++) {
      const st = svc.get(id).state
      if (st.status === 'restarting') await new Promise((r) => setTimeout(r, 450))
      rt.exit(id, 1)
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 450))
    expect(svc.get(id).state.restartCount).toBe(2)
    expect(svc.get(id).state.status).toBe('exited')
  })

  it('refuses to remove a running container unless forced', async () => {
    await svc.create(spec(), 'busy')
    await svc.start('busy')
    await expect(svc.remove('busy')).rejects.toThrow('cannot remove container "/busy": container is running: stop the container before removing or force remove')
    await svc.remove('busy', { force: true })
    expect(svc.list()).toHaveLength(0)
  })

  it('publishes lifecycle events in order', async () => {
    const seen: string[] = []
    events.subscribe((e) => seen.push(e.action))
    const { id } = await svc.create(spec(), 'ev')
    await svc.start('ev')
    rt.exit(id, 0)
    await svc.wait('ev', 'not-running')
    await svc.remove('ev')
    expect(seen).toEqual(['create', 'start', 'die', 'destroy'])
  })

  it('frees the old name on rename', async () => {
    const { id } = await svc.create(spec(), 'old-name')
    await svc.rename('old-name', 'new-name')
    expect(svc.get('new-name').id).toBe(id)
    expect(() => svc.get('old-name')).toThrow(/No such container/)
    await svc.create(spec(), 'old-name')
    expect(svc.get('old-name').id).not.toBe(id)
  })

  it('collects what a crash left of a removed container on restore', async () => {
    const { mkdirSync, existsSync } = await import('node:fs')
    const orphan = 'f'.repeat(64)
    mkdirSync(path.join(dir, 'containers', orphan), { recursive: true })
    const released: string[] = []
    const svc2 = build({ ...images, rootfsOwners: () => [orphan], releaseRootfs: async (id) => void released.push(id) })
    await svc2.restore()
    expect(released).toEqual([orphan])
    expect(existsSync(path.join(dir, 'containers', orphan))).toBe(false)
  })
})
