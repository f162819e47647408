// Delivery modes against a receiver that accepts and then reads nothing:
// with mode=non-blocking the container, berthd and `rm -f` go on as if the
// receiver were fine (the ring drops what does not fit); in blocking mode
// the container still runs to its end (conmon writes to its file) and every
// line arrives, in order, once the receiver reads.
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { afterAll, describe, expect, inject, test } from 'vitest'
import { berth, containerNames, missing, ok, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon')

/** Lines of about 100 bytes: as GELF documents with docker's fields, several times the kernel's socket buffers. */
const LINES = 40_000
const PAD = 'x'.repeat(88)
const line = (i: number) => `line ${String(i).padStart(6, '0')} ${PAD}`
const writer = ['sh', '-c', `awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) printf "line %06d ${PAD}\\n", i }'`]

/** A GELF TCP receiver that accepts every connection and leaves it unread until `read()`. */
class StalledReceiver {
  readonly messages: Array<{ name: string; text: string }> = []
  private readonly socks = new Set<net.Socket>()
  private reading = false
  port = 0

  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<StalledReceiver> {
    const server = net.createServer()
    const r = new StalledReceiver(server)
    server.on('connection', (sock) => r.accept(sock))
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
    r.port = (server.address() as net.AddressInfo).port
    return r
  }

  private accept(sock: net.Socket): void {
    this.socks.add(sock)
    sock.on('error', () => {})
    sock.on('close', () => this.socks.delete(sock))
    let buf = Buffer.alloc(0)
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      for (let nul = buf.indexOf(0); nul >= 0; nul = buf.indexOf(0)) {
        const doc = JSON.parse(buf.subarray(0, nul).toString()) as { short_message: string; _container_name: string }
        this.messages.push({ name: doc._container_name, text: doc.short_message })
        buf = buf.subarray(nul + 1)
      }
    })
    if (!this.reading) sock.pause()
  }

  /** From now on, read what was sent and what comes. */
  read(): void {
    this.reading = true
    for (const s of this.socks) s.resume()
  }

  get connections(): number {
    return this.socks.size
  }

  close(): Promise<void> {
    for (const s of this.socks) s.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** Where the lines of `logs` first differ from what the container wrote (-1: none), and how many there were. */
function compareLines(stdout: string): { count: number; firstWrong: number } {
  const got = stdout.split('\n')
  if (got.at(-1) === '') got.pop()
  return { count: got.length, firstWrong: got.findIndex((l, i) => l !== line(i + 1)) }
}

describe.skipIf(skip)('log delivery modes with a stalled receiver', () => {
  const cname = containerNames()
  const receivers: StalledReceiver[] = []
  afterAll(async () => {
    for (const r of receivers) await r.close()
  })
  const stalled = async () => {
    const r = await StalledReceiver.start()
    receivers.push(r)
    return r
  }
  const state = async (c: string) => (await berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', c])).stdout.trim()

  test('non-blocking: the container exits by itself, berthd answers, logs has every line, rm -f returns', async () => {
    const rx = await stalled()
    const c = cname('mode-nb')
    const ringDrops = () => readFileSync(inject('berthLog'), 'utf8').split('\n').filter((l) => /"msg":"log messages were dropped".*"full":[1-9]/.test(l)).length
    const dropsBefore = ringDrops()
    ok(await berth([
      'run', '-d', '--name', c, '--log-driver', 'gelf', '--log-opt', `gelf-address=tcp://127.0.0.1:${rx.port}`,
      '--log-opt', 'mode=non-blocking', '--log-opt', 'max-buffer-size=64k', 'busybox', ...writer,
    ]))
    await waitFor(async () => ((await state(c)) === 'exited 0' ? true : undefined), 60_000, `${c} to exit`)
    // The driver did connect: the stall is real, not a refused connection.
    await waitFor(() => rx.connections > 0 || undefined, 15_000, 'the driver to connect')
    ok(await berth(['version']))
    expect(ok(await berth(['ps', '-a', '--filter', `name=${c}`, '--format', '{{.Names}}'])).stdout.trim()).toBe(c)
    const logs = ok(await berth(['logs', c], { timeoutMs: 60_000 }))
    expect(compareLines(logs.stdout)).toEqual({ count: LINES, firstWrong: -1 })
    // The ring was full at times: what did not fit was dropped (and said so), not waited for.
    await waitFor(() => ringDrops() > dropsBefore || undefined, 30_000, 'berthd to report the messages the ring dropped')
    ok(await berth(['rm', '-f', c], { timeoutMs: 30_000 }))
    expect(ok(await berth(['ps', '-aq', '--filter', `name=${c}`])).stdout.trim()).toBe('')
    ok(await berth(['version']))
  }, 180_000)

  test('blocking: the container exits normally, and every line arrives in order once the receiver reads', async () => {
    const rx = await stalled()
    const c = cname('mode-block')
    ok(await berth([
      'run', '-d', '--name', c, '--log-driver', 'gelf', '--log-opt', `gelf-address=tcp://127.0.0.1:${rx.port}`, 'busybox', ...writer,
    ]))
    await waitFor(async () => ((await state(c)) === 'exited 0' ? true : undefined), 60_000, `${c} to exit`)
    await waitFor(() => rx.connections > 0 || undefined, 15_000, 'the driver to connect')
    ok(await berth(['version']))
    // logs reads the dual-logging cache, whatever the receiver does.
    expect(compareLines(ok(await berth(['logs', c], { timeoutMs: 60_000 })).stdout)).toEqual({ count: LINES, firstWrong: -1 })
    rx.read()
    const of = () => rx.messages.filter((m) => m.name === c)
    await waitFor(() => of().length >= LINES || undefined, 120_000, `all ${LINES} lines at the receiver (got ${of().length})`)
    const texts = of().map((m) => m.text)
    expect(texts.length).toBe(LINES)
    expect(texts.findIndex((t, i) => t !== line(i + 1))).toBe(-1)
    ok(await berth(['rm', '-f', c], { timeoutMs: 30_000 }))
  }, 240_000)

  test('blocking: rm -f while the receiver still reads nothing returns (the driver gives up after its bounded close)', async () => {
    const rx = await stalled()
    const c = cname('mode-block-rm')
    ok(await berth([
      'run', '-d', '--name', c, '--log-driver', 'gelf', '--log-opt', `gelf-address=tcp://127.0.0.1:${rx.port}`, 'busybox', ...writer,
    ]))
    await waitFor(async () => ((await state(c)) === 'exited 0' ? true : undefined), 60_000, `${c} to exit`)
    await waitFor(() => rx.connections > 0 || undefined, 15_000, 'the driver to connect')
    const rm = await berth(['rm', '-f', c], { timeoutMs: 45_000 })
    expect(rm.code, `rm -f: ${rm.stderr}`).toBe(0)
    expect(ok(await berth(['ps', '-aq', '--filter', `name=${c}`])).stdout.trim()).toBe('')
    ok(await berth(['version']))
  }, 120_000)
})
