/** `berth run` and `berth create`: flags → create request → pull if missing → attach, wait, start. */
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding } from '../../archive/index.js'
import type { ContainerCreateRequest, HostConfig, JSONMessage } from '../../api/types/index.js'
import { ClientError, ConnectionError, readJSONStream, type EngineClient } from '../../client/index.js'
import type { Handler, Opts } from '../app.js'
import { bool, err, getClient, int, out, str, strs } from '../context.js'
import { kvMap, normalizeEnv, parseAttach, parseGpuRequest, parseStorageOpts, parseMountFlag, parseNetworkFlags, parsePublish, parseRestartPolicy, readEnvFiles, readLabelFiles, UsageError, validateDnsSearch, validateExtraHost, validateIpAddress } from '../opts.js'
import { CredentialStore, registryAuthHeader, type DockerConfig } from '../credentials.js'
import { normalizeCapabilities, resourceFields } from '../resource-opts.js'
import { ProgressRenderer } from '../output/progress.js'
import { familiarString, normalizeReference } from '../reference.js'
import { consoleSize, monitorResize, proxySignals, pumpHijacked } from '../streams.js'

export interface CreateInput {
  image: string
  args: string[]
  opts: Opts
  /** Whether this is `run -d`: nothing attaches. */
  detach: boolean
  /** [rows, cols] when -t and stdout is a terminal. */
  console?: [number, number]
}

/** Builds the POST /containers/create body as the docker CLI does (see docker-cli-captures/runrm.txt). */
export function buildCreateRequest(input: CreateInput): { body: ContainerCreateRequest; name?: string; platform?: string } {
  const o = input.opts
  const net = parseNetworkFlags({
    networks: [...strs(o.network), ...strs(o.net)],
    aliases: [...strs(o.networkAlias), ...strs(o.netAlias)],
    links: strs(o.link),
    ip: str(o.ip) ?? '',
    ip6: str(o.ip6) ?? '',
    mac: str(o.macAddress) ?? '',
    linkLocalIPs: strs(o.linkLocalIp),
  })
  const tty = bool(o.tty)
  const interactive = bool(o.interactive)
  const attach = parseAttach(strs(o.attach))
  let attachStdin = attach.has('stdin')
  let attachStdout = attach.has('stdout')
  let attachStderr = attach.has('stderr')
  if (attach.size === 0) {
    attachStdout = true
    attachStderr = true
    if (interactive) attachStdin = true
  }
  if (input.detach) {
    if (attach.size > 0) throw new UsageError('conflicting options: cannot specify both --attach and --detach')
    attachStdin = attachStdout = attachStderr = false
  }
  const env = [...readEnvFiles(strs(o.envFile)), ...strs(o.env).map(normalizeEnv)]
  const labels = kvMap([...readLabelFiles(strs(o.labelFile)), ...strs(o.label)])
  const { exposed, bindings } = parsePublish(strs(o.publish), strs(o.expose))
  const binds: string[] = []
  const volumes: Record<string, Record<string, never>> = {}
  for (const v of strs(o.volume)) {
    const parts = v.split(':')
    if (parts.length === 1 && (parts[0] ?? '').startsWith('/')) volumes[v] = {}
    else if (parts.length >= 2 && parts.length <= 3) binds.push(v)
    else throw new UsageError(`invalid spec: ${v}: invalid volume specification`)
  }
  const mounts = strs(o.mount).map(parseMountFlag)
  const tmpfs: Record<string, string> = {}
  for (const t of strs(o.tmpfs)) {
    const i = t.indexOf(':')
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1)
  }
  const extraHosts = strs(o.addHost).map(validateExtraHost)
  const entrypoint = str(o.entrypoint)
  const stopTimeout = int(o.stopTimeout, '--stop-timeout')
  const res = resourceFields(o)
  const storageOpt = parseStorageOpts(strs(o.storageOpt))
  const annotations = kvMap(strs(o.annotation))
  const gpus = strs(o.gpus).map(parseGpuRequest)
  const hostConfig: HostConfig = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: str(o.cidfile) ?? '',
    LogConfig: logConfig(str(o.logDriver) ?? '', strs(o.logOpt)),
    NetworkMode: net.mode,
    PortBindings: bindings,
    RestartPolicy: parseRestartPolicy(str(o.restart) ?? 'no'),
    AutoRemove: bool(o.rm),
    VolumeDriver: str(o.volumeDriver) ?? '',
    VolumesFrom: strs(o.volumesFrom).length ? strs(o.volumesFrom) : null,
    ...(mounts.length ? { Mounts: mounts } : {}),
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    ConsoleSize: input.console ?? [0, 0],
    CapAdd: normalizeCapabilities(strs(o.capAdd)),
    CapDrop: normalizeCapabilities(strs(o.capDrop)),
    CgroupnsMode: res.host.CgroupnsMode,
    Dns: strs(o.dns).map(validateIpAddress),
    DnsOptions: [...strs(o.dnsOption), ...strs(o.dnsOpt)],
    DnsSearch: strs(o.dnsSearch).map(validateDnsSearch),
    ExtraHosts: extraHosts.length ? extraHosts : null,
    GroupAdd: res.host.GroupAdd,
    IpcMode: str(o.ipc) ?? '',
    Cgroup: '',
    Links: strs(o.link).length ? strs(o.link) : null,
    OomScoreAdj: res.host.OomScoreAdj,
    PidMode: str(o.pid) ?? '',
    Privileged: bool(o.privileged),
    PublishAllPorts: bool(o.publishAll),
    ReadonlyRootfs: bool(o.readOnly),
    SecurityOpt: res.host.SecurityOpt,
    UTSMode: str(o.uts) ?? '',
    UsernsMode: res.host.UsernsMode,
    ShmSize: res.host.ShmSize,
    Isolation: str(o.isolation) ?? '',
    CpuShares: res.host.CpuShares,
    Memory: res.host.Memory,
    NanoCpus: res.host.NanoCpus,
    CgroupParent: res.host.CgroupParent,
    BlkioWeight: res.host.BlkioWeight,
    BlkioWeightDevice: res.host.BlkioWeightDevice,
    BlkioDeviceReadBps: res.host.BlkioDeviceReadBps,
    BlkioDeviceWriteBps: res.host.BlkioDeviceWriteBps,
    BlkioDeviceReadIOps: res.host.BlkioDeviceReadIOps,
    BlkioDeviceWriteIOps: res.host.BlkioDeviceWriteIOps,
    CpuPeriod: res.host.CpuPeriod,
    CpuQuota: res.host.CpuQuota,
    CpuRealtimePeriod: res.host.CpuRealtimePeriod,
    CpuRealtimeRuntime: res.host.CpuRealtimeRuntime,
    CpusetCpus: res.host.CpusetCpus,
    CpusetMems: res.host.CpusetMems,
    Devices: res.host.Devices,
    DeviceCgroupRules: res.host.DeviceCgroupRules,
    DeviceRequests: gpus.length ? gpus : null,
    MemoryReservation: res.host.MemoryReservation,
    MemorySwap: res.host.MemorySwap,
    MemorySwappiness: res.host.MemorySwappiness,
    OomKillDisable: res.host.OomKillDisable,
    PidsLimit: res.host.PidsLimit,
    Ulimits: res.host.Ulimits,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: res.host.MaskedPaths,
    ReadonlyPaths: res.host.ReadonlyPaths,
    ...(res.host.Sysctls ? { Sysctls: res.host.Sysctls } : {}),
    ...(Object.keys(storageOpt).length ? { StorageOpt: storageOpt } : {}),
    ...(Object.keys(annotations).length ? { Annotations: annotations } : {}),
  }
  const restart = hostConfig.RestartPolicy?.Name ?? ''
  if (hostConfig.AutoRemove && restart !== '' && restart !== 'no') {
    throw new UsageError('conflicting options: cannot specify both --restart and --rm')
  }
  if (bool(o.init)) hostConfig.Init = true
  const runtime = str(o.runtime)
  if (runtime) hostConfig.Runtime = runtime
  const body: ContainerCreateRequest = {
    Hostname: str(o.hostname) ?? '',
    Domainname: str(o.domainname) ?? '',
    User: str(o.user) ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: tty,
    OpenStdin: interactive,
    StdinOnce: interactive && attachStdin && !input.detach,
    Env: env.length ? env : null,
    Cmd: input.args.length ? input.args : null,
    ...(res.healthcheck ? { Healthcheck: res.healthcheck } : {}),
    Image: input.image,
    Volumes: volumes,
    WorkingDir: str(o.workdir) ?? '',
    // --entrypoint "" clears the image's entrypoint: docker sends [""].
    Entrypoint: entrypoint === undefined ? null : entrypoint === '' ? [''] : [entrypoint],
    OnBuild: null,
    Labels: labels,
    ...(str(o.stopSignal) ? { StopSignal: str(o.stopSignal) } : {}),
    ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: net.endpoints },
  }
  return { body, name: str(o.name), platform: str(o.platform) }
}

/** Pulls `image` showing docker's progress on stderr (the run/create path). */
export async function pullImage(client: EngineClient, image: string, opts: { platform?: string; quiet: boolean; write: (s: string) => void }): Promise<void> {
  const ref = normalizeReference(image)
  if (!ref) throw new UsageError(`invalid reference format`)
  const res = await client.pull(ref.name, ref.digest ?? ref.tag ?? 'latest', { platform: opts.platform, auth: await registryAuthHeader(image) })
  const renderer = new ProgressRenderer(opts.quiet ? () => {} : opts.write, { isTerminal: !!process.stderr.isTTY, width: process.stderr.columns })
  for await (const msg of readJSONStream<JSONMessage>(res)) renderer.render(msg)
}

async function createContainer(client: EngineClient, input: CreateInput): Promise<string> {
  const { body, name, platform } = buildCreateRequest(input)
  const pull = str(input.opts.pull) ?? 'missing'
  if (!['always', 'missing', 'never'].includes(pull)) throw new UsageError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`)
  const quiet = bool(input.opts.quiet)
  const ref = normalizeReference(input.image)
  const cid = openCidFile(body.HostConfig?.ContainerIDFile ?? '')
  try {
    const apiSocketCreds = bool(input.opts.useApiSocket) ? await useApiSocket(client, body) : undefined
    if (pull === 'always') await pullImage(client, input.image, { platform, quiet, write: err })
    let res
    try {
      res = await client.containerCreate(body, { name, platform })
    } catch (e) {
      if (!(e instanceof ClientError) || e.statusCode !== 404 || pull !== 'missing' || !/no such image/i.test(e.message)) throw e
      err(`Unable to find image '${ref ? familiarString(ref) : input.image}' locally\n`)
      await pullImage(client, input.image, { platform, quiet, write: err })
      res = await client.containerCreate(body, { name, platform })
    }
    for (const w of res.Warnings ?? []) err(`WARNING: ${w}\n`)
    cid.write(res.Id)
    if (apiSocketCreds) {
      try {
        await client.copyToContainer(res.Id, '/', Readable.from([singleFileTar(API_SOCKET_CONFIG, JSON.stringify({ auths: apiSocketCreds }, null, '\t'))]))
      } catch (e) {
        throw new Error(`injecting docker config.json into container failed: copying config.json into container failed: ${(e as Error).message}`, { cause: e })
      }
    }
    return res.Id
  } finally {
    cid.close()
  }
}

/**
 * docker's --cidfile: an existing file is refused (another container may own
 * it); the file is made before the container and removed if no ID got into it.
 */
function openCidFile(file: string): { write(id: string): void; close(): void } {
  if (file === '') return { write: () => {}, close: () => {} }
  if (existsSync(file)) throw new UsageError(`container ID file found, make sure the other container isn't running or delete ${file}`)
  let fd: number
  try {
    fd = openSync(file, 'w', 0o644)
  } catch (e) {
    throw new Error(`failed to create the container ID file: ${(e as Error).message}`, { cause: e })
  }
  let written = false
  return {
    write(id) {
      writeSync(fd, id)
      written = true
    },
    close() {
      closeSync(fd)
      if (!written) rmSync(file, { force: true })
    },
  }
}

/** Where --use-api-socket puts the client's credentials (docker's compose-secret path). */
const API_SOCKET_CONFIG = '/run/secrets/docker/config.json'

/**
 * --use-api-socket: the daemon's socket at /var/run/docker.sock and, unless the
 * user set DOCKER_CONFIG, this client's registry credentials in a config.json
 * the container's own docker (or berth) CLI reads; returns those credentials.
 */
async function useApiSocket(client: EngineClient, body: ContainerCreateRequest): Promise<DockerConfig['auths'] | undefined> {
  if (!client.host.startsWith('unix://')) throw new UsageError(`flag --use-api-socket can only be used with unix sockets: docker endpoint ${client.host} incompatible`)
  const hc = (body.HostConfig ??= {})
  hc.Mounts = [...(hc.Mounts ?? []), { Type: 'bind', Source: client.host.slice('unix://'.length), Target: '/var/run/docker.sock', BindOptions: {} }]
  if ((body.Env ?? []).some((e) => e.startsWith('DOCKER_CONFIG='))) return undefined
  let creds
  try {
    creds = await new CredentialStore().all()
  } catch (e) {
    throw new Error(`resolving credentials failed: ${(e as Error).message}`, { cause: e })
  }
  if (creds.length === 0) return undefined
  body.Env = [...(body.Env ?? []), `DOCKER_CONFIG=${path.posix.dirname(API_SOCKET_CONFIG)}`]
  return Object.fromEntries(creds.map((c) => [c.serverAddress, {
    auth: Buffer.from(`${c.username}:${c.password}`).toString('base64'),
    ...(c.identityToken ? { identitytoken: c.identityToken } : {}),
  }]))
}

/** A tar stream holding one 0600 file, for PUT /containers/{id}/archive. */
function singleFileTar(name: string, content: string): Buffer {
  const data = Buffer.from(content)
  return Buffer.concat([encodeHeader(newHeader(name.replace(/^\//, ''), 'file', { size: data.length, mode: 0o600 })), data, padding(data.length), END_OF_ARCHIVE])
}

/** Maps a daemon error at start to docker's run exit codes. */
function startFailureStatus(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127
  if (/permission denied|cannot execute/i.test(message)) return 126
  return 125
}

export class RunError extends Error {
  constructor(message: string, readonly status: number, readonly command: string) {
    super(message)
  }
}

export const createCommand: Handler = async ([image = '', ...args], opts, ctx) => {
  const client = getClient(ctx.globals)
  try {
    // create attaches as run without -d would (docker sends AttachStdout/AttachStderr true).
    const id = await createContainer(client, { image, args, opts, detach: false, console: bool(opts.tty) ? consoleSize() : undefined })
    out(`${id}\n`)
  } catch (e) {
    throw asRunError(e, 'create')
  }
}

function asRunError(e: unknown, command: string): Error {
  // docker create reports the daemon's refusal plainly (status 1); run as a usage-style failure (125).
  if (e instanceof ClientError && command === 'create') return e
  if (e instanceof ClientError) return new RunError(`Error response from daemon: ${e.message}`, 125, command)
  if (e instanceof UsageError) return new RunError(e.message, 125, command)
  if (e instanceof ConnectionError && command === 'run') return new RunError(e.message, 125, command)
  return e as Error
}

export const runCommand: Handler = async ([image = '', ...args], opts, ctx) => {
  const client = getClient(ctx.globals)
  const detach = bool(opts.detach)
  const tty = bool(opts.tty)
  if (tty && !detach && bool(opts.interactive) && !process.stdin.isTTY) {
    throw new RunError('the input device is not a TTY', 1, 'run')
  }
  let id: string
  try {
    id = await createContainer(client, { image, args, opts, detach, console: tty ? consoleSize() : undefined })
  } catch (e) {
    throw asRunError(e, 'run')
  }
  const inspectAttach = buildCreateRequest({ image, args, opts, detach })
  const cfg = inspectAttach.body
  const autoRemove = bool(opts.rm)
  let stream: Awaited<ReturnType<EngineClient['attach']>> | undefined
  if (!detach && (cfg.AttachStdin || cfg.AttachStdout || cfg.AttachStderr)) {
    try {
      stream = await client.attach(id, {
        stream: true, stdin: cfg.AttachStdin, stdout: cfg.AttachStdout, stderr: cfg.AttachStderr,
        detachKeys: str(opts.detachKeys),
      })
    } catch (e) {
      throw asRunError(e, 'run')
    }
  }
  const wait = client.wait(id, autoRemove ? 'removed' : 'next-exit')
  wait.result.catch(() => {})
  await wait.registered
  try {
    await client.containerStart(id)
  } catch (e) {
    stream?.socket.destroy()
    wait.abort()
    if (e instanceof ClientError) throw new RunError(`Error response from daemon: ${e.message}`, startFailureStatus(e.message), 'run')
    throw e
  }
  if (detach) {
    wait.abort()
    out(`${id}\n`)
    return 0
  }
  const cleanups: (() => void)[] = []
  if (tty && process.stdout.isTTY) cleanups.push(monitorResize((h, w) => client.containerResize(id, h, w)))
  const sigProxy = opts.sigProxy !== false
  if (sigProxy && !tty) cleanups.push(proxySignals((sig) => client.containerKill(id, sig)))
  try {
    if (stream) {
      await pumpHijacked({ socket: stream.socket, tty, stdin: !!cfg.AttachStdin, stdout: !!cfg.AttachStdout, stderr: !!cfg.AttachStderr })
      // The stream also ends when the user detached (ctrl-p ctrl-q): the container still runs then.
      // Only a client sending stdin can detach; otherwise the end of the stream is the exit, whose
      // status may reach the daemon later than the stream's end (a busy machine).
      const detached = cfg.AttachStdin && await Promise.race([
        wait.result.then(() => false, () => false),
        new Promise<boolean>((r) => setTimeout(r, 500, true)).then(async (timedOut) => {
          if (!timedOut) return false
          const c = await client.containerInspect(id).catch(() => undefined)
          return !!c && c.State.Running
        }),
      ])
      if (detached) {
        wait.abort()
        return 0
      }
    }
    const res = await wait.result
    if (res.Error?.Message) {
      err(`berth: Error response from daemon: ${res.Error.Message}\n`)
      return 125
    }
    return res.StatusCode
  } finally {
    for (const c of cleanups) c()
  }
}

/** docker/cli parseLoggingOpts: `--log-opt k=v` pairs; `none` takes none. */
function logConfig(driver: string, opts: string[]): { Type: string; Config: Record<string, string> } {
  if (driver === 'none' && opts.length > 0) throw new Error(`invalid logging opts for driver ${driver}`)
  const config: Record<string, string> = {}
  for (const o of opts) {
    const i = o.indexOf('=')
    config[i < 0 ? o : o.slice(0, i)] = i < 0 ? '' : o.slice(i + 1)
  }
  return { Type: driver, Config: config }
}
