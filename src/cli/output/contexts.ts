/**
 * Template contexts with the fields docker's formatter offers for each list
 * (cli/command/formatter): own properties in alphabetical order so
 * `{{json .}}` prints keys as docker's marshalMap does.
 */
import type { ContainerSummary, HistoryItem, ImageSummary, Port } from '../../api/types/index.js'
import { familiarName, parseReference } from '../reference.js'
import { goTimeString, humanSize, humanSizeWithPrecision, timeAgo } from '../../lib/index.js'
import { goStruct } from './struct.js'

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS',
  Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS', Platform: 'PLATFORM',
}

export const DEFAULT_CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}'

export function truncateID(id: string): string {
  const i = id.indexOf(':')
  const hex = i >= 0 ? id.slice(i + 1) : id
  return hex.slice(0, 12)
}

/** docker's formatter.Ellipsis: cut to maxDisplayWidth runes ending in "…". */
export function ellipsis(s: string, max: number): string {
  const runes = [...s]
  if (runes.length <= max) return s
  if (max <= 0) return ''
  return runes.slice(0, max - 1).join('') + '…'
}

/** Go's strconv.Quote for the printable strings commands usually are. */
export function goQuote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\r') out += '\\r'
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0')
    else out += ch
  }
  return out + '"'
}

function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

/**
 * formatter.DisplayablePorts: consecutive ports of one IP and protocol become
 * a range (`0.0.0.0:8000-8001->8000-8001/tcp`), a host port that differs from
 * the container port is listed on its own after the groups, and groups keep
 * the order in which their first port was seen (an interrupted run starts a
 * new group in the same place).
 */
export function displayablePorts(ports: Port[]): string {
  const sorted = [...ports].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort
    if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0)
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0
  })
  const groups = new Map<string, { first: number; last: number }>()
  const result: string[] = []
  const hostMappings: string[] = []
  const formGroup = (key: string, start: number, last: number): string => {
    const parts = key.split('/')
    let type = parts[0] ?? ''
    let ip = ''
    if (parts.length > 1) { ip = parts[0] ?? ''; type = parts[1] ?? '' }
    let group = String(start)
    if (start !== last) group = `${group}-${last}`
    if (ip) group = `${joinHostPort(ip, group)}->${group}`
    return `${group}/${type}`
  }
  for (const p of sorted) {
    const current = p.PrivatePort
    let key = p.Type
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`)
        continue
      }
      key = `${p.IP}/${p.Type}`
    }
    const g = groups.get(key)
    if (!g) { groups.set(key, { first: current, last: current }); continue }
    if (current === g.last + 1) { g.last = current; continue }
    result.push(formGroup(key, g.first, g.last))
    // Map.set on an existing key keeps its place, as docker's groupMapKeys does.
    groups.set(key, { first: current, last: current })
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last))
  return [...result, ...hostMappings].join(', ')
}

function joinLabels(labels: Record<string, string> | null | undefined): string {
  if (!labels) return ''
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',')
}

/** Image column of `ps`: the familiar reference, or the short ID for untagged images. */
function containerImage(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return '<no image>'
  if (trunc) {
    const t = truncateID(c.ImageID ?? '')
    if (t && t === truncateID(c.Image)) return t
    const ref = parseReference(c.Image)
    if (ref && !ref.digest) return familiarName(ref.name) + (ref.tag ? `:${ref.tag}` : '')
    if (ref) return familiarName(ref.name)
  }
  return c.Image
}

export interface ContainerRow {
  Command: string
  CreatedAt: string
  ID: string
  Image: string
  Label: (name: string) => string
  Labels: string
  LocalVolumes: string
  Mounts: string
  Names: string
  Networks: string
  Platform: string | null
  Ports: string
  RunningFor: string
  Size: string
  State: string
  Status: string
}

export function containerRow(c: ContainerSummary, trunc: boolean, now = Date.now()): ContainerRow {
  let names = (c.Names ?? []).map((n) => n.slice(1))
  if (trunc) {
    const plain = names.find((n) => n.split('/').length === 1)
    if (plain !== undefined) names = [plain]
  }
  const srw = humanSizeWithPrecision(c.SizeRw ?? 0, 3)
  const size = (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? 0, 3)})` : srw
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name ? m.Name : m.Source
    return trunc ? ellipsis(name, 15) : name
  })
  const labels = c.Labels ?? {}
  const p = c.ImageManifestDescriptor?.platform
  return goStruct('formatter.ContainerContext', {
    Command: goQuote(trunc ? ellipsis(c.Command ?? '', 20) : c.Command ?? ''),
    CreatedAt: goTimeString(c.Created),
    ID: trunc ? truncateID(c.Id) : c.Id,
    Image: containerImage(c, trunc),
    Label: (name: string) => labels[name] ?? '',
    Labels: joinLabels(c.Labels),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: mounts.join(','),
    Names: names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    Platform: p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : null,
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: timeAgo(c.Created, now),
    Size: size,
    State: c.State,
    Status: c.Status,
  })
}

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT', Size: 'SIZE', Containers: 'CONTAINERS', VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
}

export const DEFAULT_IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}'
export const DEFAULT_IMAGE_TABLE_DIGEST = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}'

export interface ImageRow {
  Containers: string
  CreatedAt: string
  CreatedSince: string
  Digest: string
  ID: string
  Repository: string
  SharedSize: string
  Size: string
  Tag: string
  UniqueSize: string
  VirtualSize: string
}

function imageRowOf(i: ImageSummary, trunc: boolean, repo: string, tag: string, digest: string, now: number): ImageRow {
  return goStruct('formatter.imageContext', {
    Containers: i.Containers === -1 ? 'N/A' : String(i.Containers),
    CreatedAt: goTimeString(i.Created),
    CreatedSince: timeAgo(i.Created, now),
    Digest: digest,
    ID: trunc ? truncateID(i.Id) : i.Id,
    Repository: repo,
    SharedSize: i.SharedSize === -1 ? 'N/A' : humanSize(i.SharedSize),
    Size: humanSizeWithPrecision(i.Size, 3),
    Tag: tag,
    UniqueSize: i.SharedSize === -1 ? 'N/A' : humanSize(i.Size - i.SharedSize),
    VirtualSize: humanSize(i.Size),
  })
}

function isDangling(i: ImageSummary): boolean {
  const tags = i.RepoTags ?? []
  const digests = i.RepoDigests ?? []
  if (tags.length === 0 && digests.length === 0) return true
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>'
}

/** One row per repository:tag (and per digest with --digests), as docker's imageFormat. */
export function imageRows(images: ImageSummary[], opts: { trunc: boolean; digest: boolean; needDigest: boolean }, now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = []
  for (const img of images) {
    if (isDangling(img)) {
      rows.push(imageRowOf(img, opts.trunc, '<none>', '<none>', '<none>', now))
      continue
    }
    const repoTags = new Map<string, string[]>()
    const repoDigests = new Map<string, string[]>()
    for (const s of img.RepoTags ?? []) {
      const ref = parseReference(s)
      if (!ref || !ref.tag) continue
      const name = familiarName(ref.name)
      repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag])
    }
    for (const s of img.RepoDigests ?? []) {
      const ref = parseReference(s)
      if (!ref || !ref.digest) continue
      const name = familiarName(ref.name)
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest])
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? []
      repoDigests.delete(repo)
      if (!opts.needDigest) digests = []
      for (const tag of tags) {
        if (digests.length === 0) { rows.push(imageRowOf(img, opts.trunc, repo, tag, '<none>', now)); continue }
        for (const d of digests) rows.push(imageRowOf(img, opts.trunc, repo, tag, d, now))
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digest) for (const d of digests) rows.push(imageRowOf(img, opts.trunc, repo, '<none>', d, now))
      else rows.push(imageRowOf(img, opts.trunc, repo, '<none>', '', now))
    }
  }
  return rows
}

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT',
}

export const DEFAULT_HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'

export interface HistoryRow {
  Comment: string
  CreatedAt: string
  CreatedBy: string
  CreatedSince: string
  ID: string
  Size: string
}

/** Go's time.RFC3339 in local time. */
function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  const off = -d.getTimezoneOffset()
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`
}

export function historyRow(h: HistoryItem, opts: { trunc: boolean; human: boolean }, now = Date.now()): HistoryRow {
  let createdBy = (h.CreatedBy ?? '').replace(/\t/g, ' ')
  if (opts.trunc) createdBy = ellipsis(createdBy, 45)
  const id = opts.trunc ? truncateID(h.Id) : h.Id
  // docker shows N/A for build-history timestamps before 2000 (reproducible builds use epoch 0).
  const since = !opts.human ? rfc3339(h.Created) : h.Created <= 946684800 ? 'N/A' : timeAgo(h.Created, now)
  return goStruct('image.historyContext', {
    Comment: h.Comment ?? '',
    CreatedAt: rfc3339(h.Created),
    CreatedBy: createdBy,
    CreatedSince: since,
    ID: id,
    Size: opts.human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
  })
}
