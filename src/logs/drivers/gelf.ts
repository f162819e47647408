/**
 * GELF 1.1 messages as dockerd's gelf driver sends them (moby
 * daemon/logger/gelf, Graylog2/go-gelf): the JSON document, its UDP
 * compression and chunking, and the TCP framing.
 */
import { constants, deflateSync, gzipSync } from 'node:zlib'

import { compareBytes, formatRFC3339Nano, goJSONBytes, goJSONString, unixNano } from './go.js'
import { DEFAULT_TAG_TEMPLATE, parseLogTag, type LogInfo } from './info.js'
import type { LogMessage } from './message.js'
import type { GelfCompression } from './options.js'

/** Severity: info for stdout, err for stderr (syslog levels). */
export const GELF_LEVEL_INFO = 6
export const GELF_LEVEL_ERR = 3

/** go-gelf's UDP datagram size and chunk header. */
export const GELF_CHUNK_SIZE = 1420
const CHUNK_HEADER_LEN = 12
const CHUNK_DATA_LEN = GELF_CHUNK_SIZE - CHUNK_HEADER_LEN
export const GELF_MAX_CHUNKS = 128

/**
 * The fields a gelf logger adds to every message (gelf.New's "extra"):
 * container and image identity, command, tag, creation time, and the
 * labels/env attributes prefixed with '_'. Returned as the JSON object
 * encoding/json makes of it (keys sorted).
 */
export function gelfExtra(info: LogInfo): string {
  const tag = parseLogTag(info, DEFAULT_TAG_TEMPLATE)
  const fields: [string, string][] = [
    ['_command', goJSONString(info.Command())],
    ['_container_id', goJSONString(info.ContainerID)],
    ['_container_name', goJSONString(info.Name())],
    ['_created', '"' + formatRFC3339Nano({ ms: info.ContainerCreated.getTime() }) + '"'],
    ['_image_id', goJSONString(info.ContainerImageID)],
    ['_image_name', goJSONString(info.ContainerImageName)],
    ['_tag', goJSONString(tag)],
  ]
  const extra = new Map(fields)
  const attrs = info.ExtraAttributes((k) => (k.startsWith('_') ? k : '_' + k))
  for (const [k, v] of Object.entries(attrs)) extra.set(k, goJSONString(v))
  const keys = [...extra.keys()].sort(compareBytes)
  return '{' + keys.map((k) => goJSONString(k) + ':' + extra.get(k)).join(',') + '}'
}

/**
 * The GELF JSON document for one message, or undefined for an empty line
 * (dockerd sends none). timestamp is seconds with millisecond fraction.
 */
export function encodeGelfMessage(msg: LogMessage, host: string, extra: string): Buffer | undefined {
  if (msg.line.length === 0) return undefined
  const level = msg.source === 'stderr' ? GELF_LEVEL_ERR : GELF_LEVEL_INFO
  const seconds = Number(unixNano(msg.timestamp) / 1_000_000n) / 1000
  let json =
    `{"version":"1.1","host":${goJSONString(host)},"short_message":${goJSONBytes(msg.line)},` +
    `"timestamp":${goFloat(seconds)},"level":${level}`
  if (extra.length > 2) json += ',' + extra.slice(1, -1)
  return Buffer.from(json + '}')
}

/** encoding/json's float64: shortest round-trip digits, exponent form outside [1e-6, 1e21). */
function goFloat(f: number): string {
  const abs = Math.abs(f)
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // Go writes e-07 / e+21 with at least two exponent digits.
    return f.toExponential().replace(/e([+-])(\d)$/, 'e$10$2')
  }
  return String(f)
}

/** The UDP payload: the document compressed as go-gelf's UDPWriter does (default gzip, level 1). */
export function compressGelf(doc: Uint8Array, type: GelfCompression = 'gzip', level = 1): Buffer {
  const zlevel = level === -1 ? constants.Z_DEFAULT_COMPRESSION : level
  switch (type) {
    case 'gzip':
      return gzipSync(doc, { level: zlevel })
    case 'zlib':
      return deflateSync(doc, { level: zlevel })
    case 'none':
      return Buffer.from(doc)
  }
}

/** How many datagrams go-gelf sends for a payload (note: a multiple of 1408 gets an empty last chunk). */
export function gelfChunkCount(payloadLength: number): number {
  if (payloadLength <= GELF_CHUNK_SIZE) return 1
  return Math.floor(payloadLength / CHUNK_DATA_LEN) + 1
}

/**
 * The UDP datagrams for a payload: the payload itself when it fits in one,
 * else chunks of magic 0x1e 0x0f, the 8-byte message id, sequence number,
 * count, then up to 1408 bytes. Throws go-gelf's error past 128 chunks.
 */
export function chunkGelf(payload: Uint8Array, messageId: Uint8Array): Buffer[] {
  const n = gelfChunkCount(payload.length)
  if (n === 1) return [Buffer.from(payload)]
  if (n > GELF_MAX_CHUNKS) throw new Error(`msg too large, would need ${n} chunks`)
  if (messageId.length !== 8) throw new Error('gelf: message id must be 8 bytes')
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const off = i * CHUNK_DATA_LEN
    const data = payload.subarray(off, Math.min(off + CHUNK_DATA_LEN, payload.length))
    const chunk = Buffer.alloc(CHUNK_HEADER_LEN + data.length)
    chunk[0] = 0x1e
    chunk[1] = 0x0f
    chunk.set(messageId, 2)
    chunk[10] = i
    chunk[11] = n
    chunk.set(data, CHUNK_HEADER_LEN)
    out.push(chunk)
  }
  return out
}

/** The TCP frame: the uncompressed document and a NUL byte. */
export function frameGelfTCP(doc: Uint8Array): Buffer {
  const out = Buffer.alloc(doc.length + 1)
  out.set(doc)
  return out
}
