/** Domain image types → docker's Engine API JSON, per API version (moby api/server/router/image). */
import type {
  ContainerConfig, HistoryItem as WireHistoryItem, ImageConfig as WireImageConfig, ImageDeleteResponseItem, ImageInspect, ImagePruneReport,
  ImageSummary as WireImageSummary, JSONMessage,
} from '../../types/index.js'
import type { DeleteItem, HistoryItem, ImageProgress, ImageRecord, ImageSummary, PruneReport } from '../../../images/index.js'

type RunConfig = NonNullable<ImageRecord['config']['config']>

/** GET /images/json items. Before 1.43 untagged images show `<none>`; before 1.44 VirtualSize. */
export function toSummary(s: ImageSummary, version: number): WireImageSummary {
  let tags: string[] = s.repoTags
  let digests: string[] = s.repoDigests
  if (version < 43 && tags.length === 0 && digests.length === 0) {
    tags = ['<none>:<none>']
    digests = ['<none>@<none>']
  }
  const out: WireImageSummary = {
    Containers: s.containers,
    Created: s.created,
    Id: s.id,
    Labels: s.labels,
    ParentId: s.parentId,
    RepoDigests: digests,
    RepoTags: tags,
    SharedSize: -1,
    Size: s.size,
  }
  if (version < 44) out.VirtualSize = s.size
  return out
}

/** Since 1.50 the image Config is the OCI-shaped subset, empty fields omitted. */
function ociConfig(c: RunConfig): WireImageConfig {
  const out: Record<string, unknown> = {}
  const keys = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell'] as const
  for (const k of keys) {
    const v = c[k]
    if (v === undefined || v === null || v === '' || v === false) continue
    if (Array.isArray(v) && v.length === 0 && k !== 'Entrypoint' && k !== 'Cmd') continue
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue
    out[k] = v
  }
  return out as WireImageConfig
}

/** Before 1.50: docker's container.Config with every field present. */
function legacyConfig(c: RunConfig): ContainerConfig {
  const out: ContainerConfig = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  }
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts
  Object.assign(out, {
    Tty: c.Tty ?? false,
    OpenStdin: c.OpenStdin ?? false,
    StdinOnce: c.StdinOnce ?? false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
  })
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck as ContainerConfig['Healthcheck']
  if (c.ArgsEscaped) out.ArgsEscaped = true
  Object.assign(out, {
    Image: c.Image ?? '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
  })
  if (c.StopSignal) out.StopSignal = c.StopSignal
  if (c.Shell?.length) out.Shell = c.Shell
  return out
}

const ZERO_TIME = '0001-01-01T00:00:00Z'

/** GET /images/{name}/json. */
export function toInspect(img: ImageRecord, driverData: Record<string, string>, version: number): ImageInspect {
  const cfg = img.config
  const run = cfg.config ?? {}
  const history = cfg.history ?? []
  const out: ImageInspect & Record<string, unknown> = {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent,
    Comment: cfg.comment || history.at(-1)?.comment || '',
    Created: cfg.created ?? (version < 44 ? ZERO_TIME : undefined),
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: version >= 50 ? ociConfig(run) : legacyConfig(run),
    Architecture: cfg.architecture ?? '',
    Os: cfg.os ?? '',
    Size: img.size,
    GraphDriver: { Data: Object.keys(driverData).length ? driverData : null, Name: 'overlay2' },
    RootFS: cfg.rootfs.diff_ids.length ? { Type: cfg.rootfs.type || 'layers', Layers: cfg.rootfs.diff_ids } : { Type: cfg.rootfs.type || 'layers' },
    Metadata: { LastTagTime: img.lastTagTime ?? ZERO_TIME },
  }
  if (cfg.variant) out.Variant = cfg.variant
  if (cfg['os.version']) out.OsVersion = cfg['os.version']
  if (out.Created === undefined) delete out.Created
  if (version < 45) {
    out.Container = cfg.container ?? ''
    out.ContainerConfig = legacyConfig(cfg.container_config ?? {})
  }
  if (version < 44) out.VirtualSize = img.size
  return out
}

export function toHistory(items: HistoryItem[]): WireHistoryItem[] {
  return items.map((h) => ({ Id: h.id, Created: h.created, CreatedBy: h.createdBy, Tags: h.tags, Size: h.size, Comment: h.comment }))
}

export function toDeleteItems(items: DeleteItem[]): ImageDeleteResponseItem[] {
  return items.map((d) => ('untagged' in d ? { Untagged: d.untagged } : { Deleted: d.deleted }))
}

export function toPruneReport(r: PruneReport): ImagePruneReport {
  return { ImagesDeleted: r.imagesDeleted.length ? toDeleteItems(r.imagesDeleted) : null, SpaceReclaimed: r.spaceReclaimed }
}

/** units.HumanSizeWithPrecision(n, 4): decimal units, as docker's progress bars. */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${Number(v.toPrecision(4))}${units[i]}`
}

/** jsonmessage.JSONProgress.String(): the pre-rendered bar older clients print. */
export function progressBar(current: number, total: number): string {
  let bar = ''
  if (total > 0 && current <= total) {
    const n = Math.floor((50 * current) / total)
    bar = `[${'='.repeat(n)}>${' '.repeat(50 - n)}] `
  }
  return bar + `${humanSize(current).padStart(8)}/${humanSize(total)}`
}

export function toJsonMessage(ev: ImageProgress): JSONMessage {
  if (ev.kind === 'message') return { stream: ev.text }
  return { status: ev.action, progressDetail: { current: ev.current, total: ev.total }, progress: progressBar(ev.current, ev.total), id: ev.id }
}

export function errorMessage(message: string): JSONMessage {
  return { errorDetail: { message }, error: message }
}
