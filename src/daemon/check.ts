/**
 * `berth system check`: verifies the stores against each other and against
 * the host, as a crash (SIGKILL at any point) must leave them. Read-only: it
 * reports, it never repairs (the repairs run when berthd starts, in each
 * store's open/restore). Meant for a quiet daemon: an operation in flight
 * (a pull's unpack, a build step's mount) may show as a problem while it runs.
 *
 * Hand-written: the checks are about berth's own layout (docs/design/
 * crash-consistency.md); no library knows it.
 */
import { createHash } from 'node:crypto'
import { createReadStream, promises as fsp } from 'node:fs'
import path from 'node:path'
import type { ContainerRecord } from '../containers/index.js'
import type { ImageService } from '../images/index.js'
import { run } from '../lib/index.js'
import type { NetworkService } from '../network/index.js'
import { readMountInfo } from '../sys/index.js'
import type { VolumeService } from '../volumes/index.js'

/** One thing found wrong: what kind of object, which one, and what is wrong with it. */
export interface CheckProblem {
  /** blob, image, layer, container, snapshot, volume, mount, netns, veth, cgroup, firewall, conmon */
  kind: string
  object: string
  message: string
}

export interface CheckReport {
  problems: CheckProblem[]
  /** How many of each kind of object were looked at. */
  checked: Record<string, number>
}

export interface CheckDeps {
  dataRoot: string
  execRoot: string
  /** The daemon's cgroup-parent ('' for the default). */
  cgroupParent: string
  images: ImageService
  containers: () => ContainerRecord[]
  network: NetworkService
  volumes: VolumeService
  /** The daemon's iptables chain prefix; null when berth does not manage the firewall. */
  firewallPrefix: string | null
}

const HEX64 = /^[0-9a-f]{64}$/
const CGROUP_ROOT = '/sys/fs/cgroup'

const isRunning = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting'

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false)
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  return `sha256:${h.digest('hex')}`
}

export async function checkDaemon(d: CheckDeps): Promise<CheckReport> {
  const problems: CheckProblem[] = []
  const checked: Record<string, number> = {}
  const add = (kind: string, object: string, message: string) => problems.push({ kind, object, message })
  const count = (kind: string, n = 1) => (checked[kind] = (checked[kind] ?? 0) + n)
  const containers = d.containers()
  const running = containers.filter(isRunning)
  const { images } = d
  const store = images.store
  const overlay = path.join(d.dataRoot, 'overlay2')

  // ---- content: every blob hashes to its name; nothing half-written stays.
  const blobs = new Set<string>()
  await images.content.walk(async (b) => {
    count('blob')
    blobs.add(b.digest)
    const actual = await sha256File(images.content.path(b.digest)).catch((err: Error) => `unreadable (${err.message})`)
    if (actual !== b.digest) add('blob', b.digest, `content does not match its digest: ${actual}`)
  })
  for (const name of await fsp.readdir(path.join(d.dataRoot, 'blobs', 'ingest')).catch(() => [] as string[])) add('blob', name, 'partial ingest left in blobs/ingest')

  // ---- layers: the row, the unpacked directory, its short link, and a stored form of its tar.
  const layerOk = new Map<string, boolean>()
  const checkLayer = async (chain: string, by: string): Promise<boolean> => {
    const known = layerOk.get(chain)
    if (known !== undefined) return known
    count('layer')
    let ok = true
    const fail = (m: string) => {
      ok = false
      add('layer', chain, `${m} (${by})`)
    }
    const row = store.layer(chain)
    if (!row) fail('no layer row')
    const dir = path.join(overlay, chain.replace(/^sha256:/, ''))
    if (!(await exists(path.join(dir, 'diff')))) fail(`missing ${dir}/diff`)
    const link = (await fsp.readFile(path.join(dir, 'link'), 'utf8').catch(() => '')).trim()
    if (!link) fail(`missing ${dir}/link`)
    else if (!(await fsp.stat(path.join(overlay, 'l', link)).then((s) => s.isDirectory(), () => false))) fail(`short link l/${link} does not lead to the layer`)
    if (row && !blobs.has(row.diff_id) && !store.layerBlobsOf(row.diff_id).some((b) => blobs.has(b))) fail(`no stored tar or compressed blob for diffID ${row.diff_id}`)
    if (row?.parent && !(await checkLayer(row.parent, by))) ok = false
    layerOk.set(chain, ok)
    return ok
  }

  // ---- images: config blob and every layer.
  for (const img of store.images()) {
    count('image')
    if (!blobs.has(img.id)) add('image', img.id, 'config blob missing from the content store')
    for (const chain of store.chainOf(img.id)) await checkLayer(chain, `layer of image ${img.id}`)
  }
  for (const ref of store.allRefs()) if (!store.image(ref.image_id)) add('image', ref.name, `reference to missing image ${ref.image_id}`)

  // ---- containers: directory, image, writable snapshot and the layers under it.
  const ids = new Set(containers.map((c) => c.id))
  for (const c of containers) {
    count('container')
    if (!(await exists(path.join(d.dataRoot, 'containers', c.id)))) add('container', c.id, 'container directory missing')
    const rootfs = store.rootfs(c.id)
    // A forced rmi may remove the image of a stopped container; its rootfs still pins the layers.
    if (c.imageId && !store.image(c.imageId) && !rootfs) add('container', c.id, `image ${c.imageId} missing and no rootfs recorded`)
    if (!rootfs) {
      add('container', c.id, 'no rootfs snapshot recorded')
    } else {
      for (const sub of ['diff', 'work', 'merged', 'lower']) {
        if (!(await exists(path.join(overlay, c.id, sub)))) add('container', c.id, `snapshot ${path.join(overlay, c.id, sub)} missing`)
      }
      if (rootfs.chain_id) await checkLayer(rootfs.chain_id, `under container ${c.id}`)
    }
  }
  for (const owner of store.rootfsOwners()) if (!ids.has(owner)) add('snapshot', owner, 'rootfs snapshot recorded for no container (a build step in progress, or left by a crash)')

  // ---- overlay2: every directory is a layer, a snapshot, or berth's own.
  const owned = new Set(['l', 'empty', ...store.layers().map((l) => l.chain_id.replace(/^sha256:/, '')), ...store.rootfsOwners()])
  for (const name of await fsp.readdir(overlay).catch(() => [] as string[])) {
    count('overlay2 dir')
    if (!owned.has(name)) add('snapshot', name, `overlay2/${name} belongs to no layer, image or container`)
  }
  for (const link of await fsp.readdir(path.join(overlay, 'l')).catch(() => [] as string[])) {
    if (!(await fsp.stat(path.join(overlay, 'l', link)).then(() => true, () => false))) add('snapshot', `l/${link}`, 'dangling short link')
  }

  // ---- volumes: each has its directory.
  for (const v of d.volumes.list()) {
    count('volume')
    if (!(await exists(d.volumes.mountpoint(v.name)))) add('volume', v.name, `directory ${d.volumes.mountpoint(v.name)} missing`)
  }

  const volumeRoot = path.join(d.dataRoot, 'volumes')
  for (const e of await fsp.readdir(volumeRoot, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && !d.volumes.has(e.name)) add('volume', e.name, `directory ${path.join(volumeRoot, e.name)} belongs to no volume`)
  }

  // ---- host: mounts under the data root or the exec root a running container explains.
  const explains = (p: string) => {
    if (p === path.join(d.execRoot, 'netns')) return true
    const rel = p.startsWith(d.dataRoot + '/') ? p.slice(d.dataRoot.length + 1) : p.slice(d.execRoot.length + 1)
    const parts = rel.split('/')
    if (parts[0] === 'volumes' && parts[1]) return running.some((c) => c.spec.host.mounts.some((m) => m.type === 'volume' && m.source === parts[1]))
    return running.some((c) => parts.some((part) => part.length >= 12 && c.id.startsWith(part)))
  }
  for (const m of await readMountInfo()) {
    const p = m.mountPoint
    if (!(p.startsWith(d.dataRoot + '/') || p.startsWith(d.execRoot + '/'))) continue
    count('mount')
    if (!explains(p)) add('mount', p, `mounted (${m.fsType}) with no running container to explain it`)
  }

  // ---- network namespaces: one file per running container's sandbox.
  for (const f of await fsp.readdir(path.join(d.execRoot, 'netns')).catch(() => [] as string[])) {
    count('netns')
    if (!running.some((c) => c.id.startsWith(f))) add('netns', f, 'network namespace file without a running container')
  }

  // ---- veths on berth's bridges: each is a running container's endpoint.
  const networks = d.network.list()
  const ourIfnames = new Set(networks.filter((n) => n.driver === 'bridge').map((n) => n.ifname))
  for (const n of networks.filter((x) => x.driver === 'bridge')) {
    const endpoints = d.network.endpointsOf(n.id)
    const r = await run('ip', ['-j', 'link', 'show', 'master', n.ifname], { check: false })
    if (r.code !== 0) continue
    for (const l of JSON.parse(r.stdout || '[]') as Array<{ ifname: string }>) {
      count('veth')
      const e = endpoints.find((x) => x.hostIfname === l.ifname)
      if (!e) add('veth', l.ifname, `on bridge ${n.ifname} (network ${n.name}) with no endpoint`)
      else if (!running.some((c) => c.id === e.containerId)) add('veth', l.ifname, `on bridge ${n.ifname}: its container ${e.containerId} is not running`)
    }
  }

  // ---- cgroups under the daemon's parent: one per running container.
  const parent = d.cgroupParent || '/berth'
  const runningIds = new Set(running.map((c) => c.id))
  for (const hierarchy of await fsp.readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    const dir = path.join(CGROUP_ROOT, hierarchy, parent)
    for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory() || !HEX64.test(e.name)) continue
      count('cgroup')
      if (runningIds.has(e.name)) continue
      // Another berthd may share the parent: a populated cgroup of a container this one does not know is its.
      const procs = (await fsp.readFile(path.join(dir, e.name, 'cgroup.procs'), 'utf8').catch(() => '')).trim()
      if (!ids.has(e.name) && procs !== '') continue
      add('cgroup', path.join(hierarchy, parent, e.name), ids.has(e.name) ? 'cgroup of a container that is not running' : 'cgroup without a running container')
    }
  }

  // ---- firewall: berth's rules name only interfaces of existing networks.
  if (d.firewallPrefix) {
    const r = await run('iptables-save', [], { check: false })
    const seen = new Set<string>()
    for (const line of r.stdout.split('\n')) {
      const chain = /^-A (\S+)/.exec(line)?.[1]
      if (!chain?.startsWith(`${d.firewallPrefix}-`) || chain.slice(d.firewallPrefix.length + 1).includes('-')) continue
      count('firewall rule')
      for (const m of line.matchAll(/ -[io] (\S+)/g)) {
        const ifname = m[1] ?? ''
        if (ifname.startsWith('!') || ourIfnames.has(ifname) || seen.has(ifname)) continue
        seen.add(ifname)
        add('firewall', `${chain} ${ifname}`, `rule for interface ${ifname}, which is no network's bridge`)
      }
    }
  }

  // ---- conmon: one per running container, none for unknown ones.
  const bundles = path.join(d.execRoot, 'containers') + '/'
  for (const pid of await fsp.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue
    const argv = (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')
    if (path.basename(argv[0] ?? '') !== 'conmon') continue
    const bundle = argv[argv.indexOf('-b') + 1] ?? ''
    if (argv.indexOf('-b') < 0 || !bundle.startsWith(bundles)) continue
    count('conmon')
    const id = path.basename(bundle)
    if (!ids.has(id)) add('conmon', pid, `conmon for unknown container ${id}`)
    else if (!runningIds.has(id) && !argv.includes('--exec')) add('conmon', pid, `conmon for container ${id}, which is not running`)
  }
  return { problems, checked }
}
