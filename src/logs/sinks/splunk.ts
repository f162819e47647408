/**
 * The splunk driver's sender (moby daemon/logger/splunk): events POSTed to
 * the HTTP Event Collector in batches of up to SPLUNK_BATCH_SIZE, at most
 * one batch per SPLUNK_POST_INTERVAL_MS unless a full batch waits (docker's
 * ticker), gzipped with splunk-gzip, over https with splunk-capath /
 * splunk-caname / splunk-insecureskipverify. A failed POST (no answer or a
 * non-200 status) is logged as dockerd logs it and retried; in blocking
 * mode the shipper waits meanwhile, so nothing is dropped until `close`
 * runs out of time.
 *
 * Hand-written over node:http(s): the bodies are docker's bytes
 * (drivers/splunk.ts) and no HEC client adds anything a POST does not.
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { hostname } from 'node:os'

import {
  DEFAULT_TAG_TEMPLATE,
  SPLUNK_BATCH_SIZE,
  SPLUNK_POST_INTERVAL_MS,
  encodeSplunkEvent,
  parseLogTag,
  parseSplunkOptions,
  splunkBody,
  splunkHeaders,
  type LogMessage,
  type SplunkEventOptions,
  type SplunkOptions,
} from '../drivers/index.js'
import type { SinkContext, SinkFactory } from '../sink.js'
import { PumpedSink, abortReason, sleep } from './pump.js'

/** dockerd's batchSendTimeout and maxResponseSize. */
const REQUEST_TIMEOUT_MS = 30_000
const MAX_RESPONSE_SIZE = 1024
/** The first retry comes sooner than docker's next tick: the shipper is waiting on it. */
const FIRST_RETRY_MS = 1000
/** Retries while closing, within CLOSE_TIMEOUT_MS. */
const CLOSING_RETRY_MS = 250

export const splunkSink: SinkFactory = (ctx) => new SplunkSink(ctx)

export interface SplunkTiming {
  intervalMs: number
  batchSize: number
  closeTimeoutMs?: number
}

class SplunkSink extends PumpedSink<string> {
  private readonly o: SplunkOptions
  private readonly ev: SplunkEventOptions
  private readonly agent: http.Agent
  private lastPost = 0

  constructor(
    ctx: SinkContext,
    private readonly timing: SplunkTiming = { intervalMs: SPLUNK_POST_INTERVAL_MS, batchSize: SPLUNK_BATCH_SIZE },
  ) {
    super(ctx.logger, timing.closeTimeoutMs)
    this.o = parseSplunkOptions(ctx.opts)
    // An empty tag option means no tag at all (not the default), as in docker.
    const tag = ctx.opts['tag'] === '' ? '' : parseLogTag(ctx.info, DEFAULT_TAG_TEMPLATE)
    this.ev = {
      format: this.o.format,
      host: ctx.info.Hostname() || hostname(),
      source: this.o.source,
      sourcetype: this.o.sourcetype,
      index: this.o.index,
      tag,
      attrs: ctx.info.ExtraAttributes(),
    }
    this.agent = splunkAgent(this.o)
  }

  protected encode(m: LogMessage): string | undefined {
    return encodeSplunkEvent(m, this.ev)
  }

  protected async run(signal: AbortSignal): Promise<void> {
    let failures = 0
    while (this.queue.length > 0) {
      // docker's ticker: a batch at most every interval, sooner when a full one waits; close sends at once.
      if (failures > 0) {
        const backoff = Math.min(FIRST_RETRY_MS * 2 ** (failures - 1), this.timing.intervalMs)
        await sleep(this.closing ? Math.min(backoff, CLOSING_RETRY_MS) : backoff, signal)
      } else if (this.queue.length < this.timing.batchSize) {
        await this.pause(this.lastPost + this.timing.intervalMs - Date.now(), signal)
      }
      const batch = this.queue.slice(0, this.timing.batchSize)
      this.lastPost = Date.now()
      try {
        await postEvents(this.o, this.agent, batch, signal)
        failures = 0
        this.done(batch.length)
      } catch (err) {
        if (signal.aborted) throw abortReason(signal)
        this.logger.warn('Error while sending logs', { module: 'logger/splunk', err: (err as Error).message })
        failures++
      }
    }
  }

  /** Sleeps, but wakes when close starts so the last batch goes at once. */
  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    const end = Date.now() + ms
    while (!this.closing && Date.now() < end) await sleep(Math.min(100, end - Date.now()), signal)
  }

  protected release(): void {
    this.agent.destroy()
  }
}

/** The agent for the HEC URL: https with the CA file, server name and verification docker's options set. */
function splunkAgent(o: SplunkOptions): http.Agent {
  if (!o.url.startsWith('https:')) return new http.Agent({ keepAlive: true })
  let ca: Buffer | undefined
  if (o.caPath !== undefined) {
    try {
      ca = readFileSync(o.caPath)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new Error(`open ${o.caPath}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`)
    }
  }
  return new https.Agent({
    keepAlive: true,
    rejectUnauthorized: !o.insecureSkipVerify,
    ...(ca && { ca }),
    ...(o.caName !== undefined && { servername: o.caName }),
  })
}

/** One POST of a batch; rejects with dockerd's message on a non-200 answer. */
export async function postEvents(o: SplunkOptions, agent: http.Agent, events: readonly string[], signal?: AbortSignal): Promise<void> {
  const body = splunkBody(events, o.gzip ? { level: o.gzipLevel } : undefined)
  const headers = { ...splunkHeaders(o.token, { gzip: o.gzip, indexAck: o.indexAck }), 'Content-Length': String(body.length) }
  const res = await request(o, agent, 'POST', headers, body, signal)
  if (res.status !== 200) throw new Error(`splunk: failed to send event - ${res.status} ${res.statusText} - ${res.body}`)
}

/**
 * dockerd's splunk-verify-connection: an OPTIONS request to the HEC URL
 * that must answer 200. The sink does not run it (a start never waits for
 * a receiver); it is here for a caller that wants docker's start error.
 */
export async function verifySplunkConnection(opts: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
  const o = parseSplunkOptions(opts)
  if (!o.verifyConnection) return
  const agent = splunkAgent(o)
  try {
    const res = await request(o, agent, 'OPTIONS', {}, undefined, signal)
    if (res.status !== 200) throw new Error(`splunk: failed to verify connection - ${res.status} ${res.statusText} - ${res.body}`)
  } finally {
    agent.destroy()
  }
}

interface Answer {
  status: number
  statusText: string
  /** The first MAX_RESPONSE_SIZE bytes. */
  body: string
}

function request(
  o: SplunkOptions,
  agent: http.Agent,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  signal?: AbortSignal,
): Promise<Answer> {
  const mod = o.url.startsWith('https:') ? https : http
  return new Promise<Answer>((resolve, reject) => {
    const req = mod.request(o.url, { method, agent, headers, timeout: REQUEST_TIMEOUT_MS, ...(signal && { signal }) }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        if (size < MAX_RESPONSE_SIZE) chunks.push(c)
        size += c.length
      })
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          body: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_SIZE).toString(),
        }),
      )
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${goMethod(method)} ${goQuote(o.url)}: context deadline exceeded`)))
    req.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ECONNREFUSED' ? new Error(`${goMethod(method)} ${goQuote(o.url)}: dial tcp ${hostPort(o.url)}: connect: connection refused`, { cause: err }) : err))
    req.end(body)
  })
}

/** Go's url.Error prefix: the method in title case ("Post", "Options"). */
function goMethod(m: string): string {
  return m.charAt(0) + m.slice(1).toLowerCase()
}

function goQuote(s: string): string {
  return JSON.stringify(s)
}

function hostPort(url: string): string {
  const u = new URL(url)
  return u.port ? u.host : `${u.host}:${u.protocol === 'https:' ? 443 : 80}`
}

/** For tests: a sink with a shorter interval than docker's five seconds. */
export function splunkSinkWith(timing: SplunkTiming): SinkFactory {
  return (ctx) => new SplunkSink(ctx, timing)
}
