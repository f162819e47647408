/**
 * `berth stats` / `berth container stats`: docker's live table of CPU,
 * memory, network, block I/O and pids per container (docker/cli
 * cli/command/container/stats.go, stats_helpers.go, formatter_stats.go):
 * one stats stream per container, the table drawn every half second, and
 * without names the set follows the daemon's container events.
 */
import type { IncomingMessage } from 'node:http'
import type { BlkioStats, ContainerSummary, MemoryStats, NetworkStats, StatsResponse } from '../../api/types/index.js'
import { ClientError, readJSONStream, type EngineClient } from '../../client/index.js'
import { bytesSize, humanSizeWithPrecision } from '../../lib/index.js'
import type { Handler } from '../app.js'
import { bool, configFormat, getClient, out, str } from '../context.js'
import { truncateID } from '../output/contexts.js'
import { renderFormat, TABLE_KEY } from '../output/format.js'
import { goStruct } from '../output/struct.js'

export const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}'

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
}

/** What one container's row shows, computed from its latest record (docker's StatsEntry). */
export interface StatsEntry {
  container: string
  name: string
  id: string
  cpuPercentage: number
  memory: number
  memoryLimit: number
  memoryPercentage: number
  networkRx: number
  networkTx: number
  blockRead: number
  blockWrite: number
  pidsCurrent: number
  /** No record yet, a timeout or an error: the row shows "--". */
  isInvalid: boolean
}

/** CPU use between the two samples of a record, as a share of one CPU times the online CPUs. */
export function cpuPercentUnix(v: StatsResponse): number {
  const cpuDelta = v.cpu_stats.cpu_usage.total_usage - v.precpu_stats.cpu_usage.total_usage
  const systemDelta = (v.cpu_stats.system_cpu_usage ?? 0) - (v.precpu_stats.system_cpu_usage ?? 0)
  let online = v.cpu_stats.online_cpus ?? 0
  if (online === 0) online = v.cpu_stats.cpu_usage.percpu_usage?.length ?? 0
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0
}

/** Bytes read and written: the service-bytes entries whose op starts with r/R or w/W. */
export function blockIO(b: BlkioStats): [number, number] {
  let read = 0
  let write = 0
  for (const e of b.io_service_bytes_recursive ?? []) {
    const c = e.op[0]
    if (c === 'r' || c === 'R') read += e.value
    else if (c === 'w' || c === 'W') write += e.value
  }
  return [read, write]
}

export function networkIO(n: Record<string, NetworkStats> | undefined): [number, number] {
  let rx = 0
  let tx = 0
  for (const v of Object.values(n ?? {})) {
    rx += v.rx_bytes
    tx += v.tx_bytes
  }
  return [rx, tx]
}

/** Usage without the page cache that could be dropped: total_inactive_file on v1, inactive_file on v2. */
export function memUsageNoCache(m: MemoryStats): number {
  const usage = m.usage ?? 0
  const v1 = m.stats?.total_inactive_file
  if (v1 !== undefined && v1 < usage) return usage - v1
  const v2 = m.stats?.inactive_file ?? 0
  if (v2 < usage) return usage - v2
  return usage
}

export function memPercent(limit: number, used: number): number {
  return limit !== 0 ? (used / limit) * 100 : 0
}

export function statsEntry(container: string, v: StatsResponse): StatsEntry {
  const [blockRead, blockWrite] = blockIO(v.blkio_stats)
  const [networkRx, networkTx] = networkIO(v.networks)
  const memory = memUsageNoCache(v.memory_stats)
  const memoryLimit = v.memory_stats.limit ?? 0
  return {
    container,
    name: v.name ?? '',
    id: v.id ?? '',
    cpuPercentage: cpuPercentUnix(v),
    memory,
    memoryLimit,
    memoryPercentage: memPercent(memoryLimit, memory),
    networkRx,
    networkTx,
    blockRead,
    blockWrite,
    pidsCurrent: v.pids_stats.current ?? 0,
    isInvalid: false,
  }
}

const NO_VALUE = '--'

/** strconv.FormatFloat(v, 'f', 2, 64) + "%". */
export function formatPercentage(v: number): string {
  return `${v.toFixed(2)}%`
}

export interface StatsRow {
  BlockIO: string
  CPUPerc: string
  Container: string
  ID: string
  MemPerc: string
  MemUsage: string
  Name: string
  NetIO: string
  PIDs: string
}

/** docker's statsContext; fields in alphabetical order, as its `{{json .}}` prints them. */
export function statsRow(e: StatsEntry, trunc: boolean): StatsRow {
  const bad = e.isInvalid
  return goStruct('container.statsContext', {
    BlockIO: bad ? NO_VALUE : `${humanSizeWithPrecision(e.blockRead, 3)} / ${humanSizeWithPrecision(e.blockWrite, 3)}`,
    CPUPerc: bad ? NO_VALUE : formatPercentage(e.cpuPercentage),
    Container: e.container,
    ID: trunc ? truncateID(e.id) : e.id,
    MemPerc: bad ? NO_VALUE : formatPercentage(e.memoryPercentage),
    MemUsage: bad ? '-- / --' : `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    Name: e.name.length > 1 ? e.name.slice(1) : NO_VALUE,
    NetIO: bad ? NO_VALUE : `${humanSizeWithPrecision(e.networkRx, 3)} / ${humanSizeWithPrecision(e.networkTx, 3)}`,
    PIDs: bad ? NO_VALUE : String(e.pidsCurrent),
  })
}

export function statsFormat(source: string | undefined): string {
  return !source || source === TABLE_KEY ? DEFAULT_STATS_TABLE : source
}

/**
 * What docker writes to redraw the table in place: cursor home, each line
 * followed by erase-to-end-of-line, and erase-below for rows that went away.
 */
export function redraw(table: string): string {
  return '\x1b[H' + table.split('\n').map((l) => `${l} \x1b[K\n`).join('') + '\x1b[J'
}

/** One container's collector: its latest entry, the error that last came, and how to stop it. */
class Collector {
  entry: StatsEntry
  error: Error | undefined
  readonly abort = new AbortController()

  constructor(readonly container: string) {
    this.entry = invalidEntry(container)
  }

  setErrorAndReset(e: Error): void {
    this.entry = { ...invalidEntry(this.container), name: this.entry.name, id: this.entry.id }
    this.error = e
  }

  setError(e: Error | undefined): void {
    this.error = e
    if (e) this.entry = { ...this.entry, isInvalid: true }
  }
}

function invalidEntry(container: string): StatsEntry {
  return { container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0, networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, isInvalid: true }
}

/** docker's wait for a record before showing a container as timed out. */
const RECORD_TIMEOUT_MS = 2000

/** Reads one container's stats stream into `c`; resolves once the first record, an error or a timeout came. */
function collect(client: EngineClient, c: Collector, stream: boolean): Promise<void> {
  return new Promise<void>((first) => {
    let timer: NodeJS.Timeout | undefined
    const arm = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        c.setErrorAndReset(new Error('timeout waiting for stats'))
        first()
        if (stream && !c.abort.signal.aborted) arm()
      }, RECORD_TIMEOUT_MS)
    }
    arm()
    c.abort.signal.addEventListener('abort', () => clearTimeout(timer), { once: true })
    const read = async (): Promise<void> => {
      let res: IncomingMessage
      try {
        res = await client.stream('GET', `/containers/${encodeURIComponent(c.container)}/stats`, { query: { stream: stream ? '1' : '0' }, signal: c.abort.signal })
      } catch (e) {
        clearTimeout(timer)
        c.setError(e as Error)
        first()
        return
      }
      c.abort.signal.addEventListener('abort', () => res.destroy(), { once: true })
      try {
        for await (const v of readJSONStream<StatsResponse>(res)) {
          c.entry = statsEntry(c.container, v)
          c.error = undefined
          first()
          if (!stream) break
          arm()
        }
      } catch (e) {
        if (!c.abort.signal.aborted) c.setError(e as Error)
      }
      if (!stream) {
        clearTimeout(timer)
        res.destroy()
      } else if (!c.abort.signal.aborted) c.setError(new Error('EOF'))
      first()
    }
    void read()
  })
}

interface EventMessage {
  Action?: string
  Actor?: { ID?: string }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export const statsCommand: Handler = async (args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const all = bool(opts.all)
  const noStream = opts.stream === false
  const trunc = opts.trunc !== false
  const format = statsFormat(str(opts.format) || configFormat('statsFormat'))
  const collectors: Collector[] = []
  const firsts: Array<Promise<void>> = []
  const add = (container: string): void => {
    if (collectors.some((c) => c.container === container)) return
    const c = new Collector(container)
    collectors.push(c)
    firsts.push(collect(client, c, !noStream))
  }
  const remove = (container: string): void => {
    const i = collectors.findIndex((c) => c.container === container)
    if (i >= 0) collectors.splice(i, 1)[0]?.abort.abort()
  }
  const showAll = args.length === 0
  const events = new AbortController()
  let eventsError: Error | undefined
  try {
    if (showAll) {
      // Subscribed before listing, so a container started in between is not missed.
      const res = await client.events({ filters: { type: { container: true } }, signal: events.signal })
      void (async () => {
        for await (const e of readJSONStream<EventMessage>(res)) {
          const id = (e.Actor?.ID ?? '').slice(0, 12)
          if (!id) continue
          if (e.Action === 'start' || (all && e.Action === 'create')) add(id)
          else if (!all && e.Action === 'die') remove(id)
        }
      })().catch((e: unknown) => {
        if (!events.signal.aborted) eventsError = e as Error
      })
      const list: ContainerSummary[] = await client.containerList({ all })
      for (const c of list) add(c.Id.slice(0, 12))
      await Promise.all(firsts)
    } else {
      for (const n of args) add(n)
      await Promise.all(firsts)
      const errors = collectors.flatMap((c) => (c.error ? [c.error] : []))
      // docker joins them (errors.Join): one message a line.
      if (errors.length === 1) throw errors[0]
      if (errors.length) throw new Error(errors.map((e) => (e instanceof ClientError ? `Error response from daemon: ${e.message}` : e.message)).join('\n'))
    }
    const tty = !!process.stdout.isTTY
    for (;;) {
      await sleep(500)
      const table = renderFormat(format, collectors.map((c) => statsRow(c.entry, trunc)), STATS_HEADERS)
      // A terminal gets the table redrawn in place; a pipe gets each table after the last.
      out(!noStream && tty ? redraw(table) : table)
      if (noStream || (collectors.length === 0 && !showAll)) break
      if (eventsError) throw eventsError
    }
  } finally {
    events.abort()
    for (const c of collectors) c.abort.abort()
  }
}
