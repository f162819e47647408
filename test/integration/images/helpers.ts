import { execFileSync } from 'node:child_process'
import { mkdtempSync, promises as fsp, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { openDb } from '../../../src/db/index.js'
import { EventBus } from '../../../src/events/index.js'
import { ImageService } from '../../../src/images/index.js'
import { nullLogger } from '../../../src/lib/index.js'

export const isRoot = process.getuid?.() === 0
export const fixtures = path.resolve(import.meta.dirname, '../../fixtures/images')

export interface TestEngine {
  root: string
  svc: ImageService
  events: EventBus
  /** Fake containers: container ID → image ID, and which run. */
  containers: Map<string, { image: string; running: boolean }>
  close(): Promise<void>
}

export async function engine(name: string): Promise<TestEngine> {
  const root = mkdtempSync(path.join(tmpdir(), `berth-img-${name}-`))
  const db = openDb(path.join(root, 'berth.db'))
  const events = new EventBus()
  const containers = new Map<string, { image: string; running: boolean }>()
  const svc = await ImageService.open({
    db, dataRoot: root, logger: nullLogger, events,
    containersUsing: (id) => [...containers].filter(([, c]) => c.image === id).map(([cid]) => cid),
    containerRunning: (cid) => containers.get(cid)?.running ?? false,
  })
  return {
    root, svc, events, containers,
    close: async () => {
      db.close()
      await fsp.rm(root, { recursive: true, force: true })
    },
  }
}

let busybox: Buffer | undefined

/** A busybox rootfs tar: the static /usr/bin/busybox, its applet links, /etc/passwd, /etc/group, /tmp 1777. */
export async function busyboxTar(): Promise<Buffer> {
  if (busybox) return busybox
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-busybox-'))
  try {
    const rootfs = path.join(dir, 'rootfs')
    for (const d of ['bin', 'etc', 'tmp', 'root']) await fsp.mkdir(path.join(rootfs, d), { recursive: true })
    await fsp.chmod(path.join(rootfs, 'tmp'), 0o1777)
    await fsp.copyFile('/usr/bin/busybox', path.join(rootfs, 'bin/busybox'))
    await fsp.chmod(path.join(rootfs, 'bin/busybox'), 0o755)
    const applets = execFileSync('/usr/bin/busybox', ['--list']).toString().split('\n').filter((a) => a && a !== 'busybox')
    for (const a of applets) await fsp.symlink('busybox', path.join(rootfs, 'bin', a))
    await fsp.writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
    await fsp.writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n')
    execFileSync('tar', ['-c', '-f', path.join(dir, 'rootfs.tar'), '--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '.'])
    busybox = readFileSync(path.join(dir, 'rootfs.tar'))
    return busybox
  } finally {
    await fsp.rm(dir, { recursive: true, force: true })
  }
}

export async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of r) parts.push(c as Buffer)
  return Buffer.concat(parts)
}

export const stream = (b: Buffer): Readable => Readable.from([b])
