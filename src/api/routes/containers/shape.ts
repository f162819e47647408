/**
 * The shape of a POST /containers/create body, checked before anything reads
 * it. dockerd decodes the body into Go structs, so a field of the wrong JSON
 * type is a 400 naming the field and the type it wanted; unknown fields and
 * nulls are let through, as Go's decoder does. Without this, a wrong type
 * surfaced as a 500 from deep in the conversion (`map is not a function`).
 */
import { invalidArgument } from '../../../errors/index.js'

type Kind =
  | 'string' | 'bool' | 'int' | 'uint16'
  /** []string */
  | 'strings'
  /** strslice.StrSlice: a string or a list of strings. */
  | 'strslice'
  /** map[string]string */
  | 'strmap'
  /** map[string]struct{} or map[string]<struct>: an object of objects. */
  | 'objmap'
  | { struct: Shape; go: string }
  | { list: Kind; go: string }
  | { map: Kind; go: string }

interface Shape {
  [field: string]: Kind
}

const goType = (k: Kind): string =>
  typeof k === 'string'
    ? ({ string: 'string', bool: 'bool', int: 'int64', uint16: 'uint16', strings: '[]string', strslice: 'strslice.StrSlice', strmap: 'map[string]string', objmap: 'map[string]struct {}' } as const)[k]
    : k.go

const weightDevice: Kind = { list: { struct: { Path: 'string', Weight: 'uint16' }, go: 'blkiodev.WeightDevice' }, go: '[]*blkiodev.WeightDevice' }
const throttleDevice: Kind = { list: { struct: { Path: 'string', Rate: 'int' }, go: 'blkiodev.ThrottleDevice' }, go: '[]*blkiodev.ThrottleDevice' }

const hostConfig: Shape = {
  Binds: 'strings', ContainerIDFile: 'string', NetworkMode: 'string', VolumeDriver: 'string', IpcMode: 'string', PidMode: 'string',
  UTSMode: 'string', UsernsMode: 'string', Cgroup: 'string', CgroupnsMode: 'string', CgroupParent: 'string', Runtime: 'string',
  Isolation: 'string', CpusetCpus: 'string', CpusetMems: 'string',
  AutoRemove: 'bool', Privileged: 'bool', PublishAllPorts: 'bool', ReadonlyRootfs: 'bool', OomKillDisable: 'bool', Init: 'bool',
  CapAdd: 'strslice', CapDrop: 'strslice', Dns: 'strings', DnsOptions: 'strings', DnsSearch: 'strings', ExtraHosts: 'strings',
  GroupAdd: 'strings', Links: 'strings', SecurityOpt: 'strings', VolumesFrom: 'strings', DeviceCgroupRules: 'strings',
  MaskedPaths: 'strings', ReadonlyPaths: 'strings', Tmpfs: 'strmap', Sysctls: 'strmap', StorageOpt: 'strmap', Annotations: 'strmap',
  Memory: 'int', MemorySwap: 'int', MemoryReservation: 'int', MemorySwappiness: 'int', KernelMemory: 'int', KernelMemoryTCP: 'int',
  NanoCpus: 'int', CpuShares: 'int', CpuPeriod: 'int', CpuQuota: 'int', CpuRealtimePeriod: 'int', CpuRealtimeRuntime: 'int',
  PidsLimit: 'int', OomScoreAdj: 'int', ShmSize: 'int', CpuCount: 'int', CpuPercent: 'int', IOMaximumIOps: 'int', IOMaximumBandwidth: 'int',
  BlkioWeight: 'uint16', BlkioWeightDevice: weightDevice,
  BlkioDeviceReadBps: throttleDevice, BlkioDeviceWriteBps: throttleDevice, BlkioDeviceReadIOps: throttleDevice, BlkioDeviceWriteIOps: throttleDevice,
  ConsoleSize: { list: 'int', go: '[2]uint' },
  PortBindings: { map: { list: { struct: { HostIp: 'string', HostPort: 'string' }, go: 'nat.PortBinding' }, go: '[]nat.PortBinding' }, go: 'nat.PortMap' },
  RestartPolicy: { struct: { Name: 'string', MaximumRetryCount: 'int' }, go: 'container.RestartPolicy' },
  LogConfig: { struct: { Type: 'string', Config: 'strmap' }, go: 'container.LogConfig' },
  Mounts: { list: { struct: { Type: 'string', Source: 'string', Target: 'string', ReadOnly: 'bool', Consistency: 'string' }, go: 'mount.Mount' }, go: '[]mount.Mount' },
  Ulimits: { list: { struct: { Name: 'string', Soft: 'int', Hard: 'int' }, go: 'container.Ulimit' }, go: '[]*container.Ulimit' },
  DeviceRequests: {
    list: { struct: { Driver: 'string', Count: 'int', DeviceIDs: 'strings', Capabilities: { list: 'strings', go: '[][]string' }, Options: 'strmap' }, go: 'container.DeviceRequest' },
    go: '[]container.DeviceRequest',
  },
  Devices: { list: { struct: { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' }, go: 'container.DeviceMapping' }, go: '[]container.DeviceMapping' },
}

const createBody: Shape = {
  Hostname: 'string', Domainname: 'string', User: 'string', Image: 'string', WorkingDir: 'string', StopSignal: 'string', MacAddress: 'string',
  AttachStdin: 'bool', AttachStdout: 'bool', AttachStderr: 'bool', Tty: 'bool', OpenStdin: 'bool', StdinOnce: 'bool',
  NetworkDisabled: 'bool', ArgsEscaped: 'bool',
  Env: 'strings', OnBuild: 'strings', Cmd: 'strslice', Entrypoint: 'strslice', Shell: 'strslice', Labels: 'strmap',
  ExposedPorts: 'objmap', Volumes: 'objmap', StopTimeout: 'int',
  Healthcheck: { struct: { Test: 'strings', Interval: 'int', Timeout: 'int', StartPeriod: 'int', StartInterval: 'int', Retries: 'int' }, go: 'container.HealthConfig' },
  HostConfig: { struct: hostConfig, go: 'container.HostConfig' },
  NetworkingConfig: { struct: { EndpointsConfig: 'objmap' }, go: 'network.NetworkingConfig' },
}

const jsonType = (v: unknown): string => (Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : v === null ? 'null' : typeof v)

function fail(v: unknown, path: string, k: Kind): never {
  const what = typeof v === 'number' ? `number ${v}` : jsonType(v)
  throw invalidArgument(`json: cannot unmarshal ${what} into Go struct field ${path} of type ${goType(k)}`)
}

function check(v: unknown, k: Kind, path: string): void {
  if (v === null || v === undefined) return
  const obj = typeof v === 'object' && !Array.isArray(v)
  if (typeof k === 'string') {
    switch (k) {
      case 'string':
        if (typeof v !== 'string') fail(v, path, k)
        return
      case 'bool':
        if (typeof v !== 'boolean') fail(v, path, k)
        return
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v)) fail(v, path, k)
        return
      case 'uint16':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) fail(v, path, k)
        return
      case 'strings':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(v, path, k)
        return
      case 'strslice':
        if (typeof v !== 'string' && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) fail(v, path, k)
        return
      case 'strmap':
        if (!obj || Object.values(v).some((x) => typeof x !== 'string')) fail(v, path, k)
        return
      case 'objmap':
        if (!obj || Object.values(v).some((x) => x !== null && (typeof x !== 'object' || Array.isArray(x)))) fail(v, path, k)
        return
    }
  }
  if ('struct' in k) {
    if (!obj) fail(v, path, k)
    for (const [f, fk] of Object.entries(k.struct)) check((v as Record<string, unknown>)[f], fk, `${path}.${f}`)
  } else if ('list' in k) {
    if (!Array.isArray(v)) fail(v, path, k)
    for (const x of v) check(x, k.list, path)
  } else {
    if (!obj) fail(v, path, k)
    for (const x of Object.values(v as Record<string, unknown>)) check(x, k.map, path)
  }
}

/** Throws docker's 400 for a create body whose fields have the wrong JSON types. */
export function checkCreateShape(body: unknown): void {
  if (body === null || body === undefined) return
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidArgument(`json: cannot unmarshal ${jsonType(body)} into Go value of type container.CreateRequest`)
  for (const [f, k] of Object.entries(createBody)) check((body as Record<string, unknown>)[f], k, `CreateRequest.${f}`)
}
