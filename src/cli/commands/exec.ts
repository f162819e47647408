/** Commands that stream a container's I/O: exec, attach, start -a, logs. */
import type { ExecConfig } from '../../api/types/index.js'
import { demuxStream, type EngineClient, type WaitHandle } from '../../client/index.js'
import type { Handler } from '../app.js'
import { bool, err, getClient, out, str, strs } from '../context.js'
import { getTimestamp, normalizeEnv, readEnvFiles } from '../opts.js'
import { consoleSize, monitorResize, proxySignals, pumpHijacked } from '../streams.js'

/** Builds the POST /containers/{id}/exec body as the docker CLI does (docker-cli-captures/exec.txt). */
export function buildExecConfig(args: string[], opts: Record<string, unknown>, console?: [number, number]): ExecConfig {
  const tty = bool(opts.tty)
  const detach = bool(opts.detach)
  const interactive = bool(opts.interactive)
  const env = [...readEnvFiles(strs(opts.envFile)), ...strs(opts.env).map(normalizeEnv)]
  const config: ExecConfig = {
    User: str(opts.user) ?? '',
    Privileged: bool(opts.privileged),
    Tty: tty,
    ...(tty && console ? { ConsoleSize: console } : {}),
    AttachStdin: !detach && interactive,
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: detach,
    DetachKeys: str(opts.detachKeys) ?? '',
    Env: env.length ? env : null,
    WorkingDir: str(opts.workdir) ?? '',
    Cmd: args,
  }
  return config
}

export const execCommand: Handler = async ([container = '', ...cmd], opts, ctx) => {
  const client = getClient(ctx.globals)
  const tty = bool(opts.tty)
  // As the docker CLI: an unknown container first, then the TTY; whether the container can take an exec
  // (stopped, paused) is the daemon's to say at create.
  await client.containerInspect(container)
  if (!bool(opts.detach) && tty && bool(opts.interactive) && !process.stdin.isTTY) {
    err('the input device is not a TTY\n')
    return 1
  }
  const size = tty ? consoleSize() : undefined
  const config = buildExecConfig(cmd, opts, size)
  const { Id } = await client.execCreate(container, config)
  if (config.Detach) {
    await client.execStart(Id, { Detach: true, Tty: tty, ...(size ? { ConsoleSize: size } : {}) })
    return 0
  }
  const stream = await client.execAttach(Id, { Detach: false, Tty: tty, ...(tty && size ? { ConsoleSize: size } : {}) })
  const stop = tty && process.stdout.isTTY ? monitorResize((h, w) => client.execResize(Id, h, w)) : () => {}
  try {
    await pumpHijacked({ socket: stream.socket, tty, stdin: !!config.AttachStdin, stdout: true, stderr: true })
  } finally {
    stop()
  }
  const result = await client.execInspect(Id)
  return result.ExitCode ?? 0
}

export const attachCommand: Handler = async ([container = ''], opts, ctx) => {
  const client = getClient(ctx.globals)
  const info = await client.containerInspect(container)
  if (!info.State.Running) {
    err('You cannot attach to a stopped container, start it first\n')
    return 1
  }
  if (info.State.Paused) {
    err('You cannot attach to a paused container, unpause it first\n')
    return 1
  }
  const tty = !!info.Config.Tty
  const stdin = opts.stdin !== false && !!info.Config.OpenStdin
  const stream = await client.attach(info.Id, { stream: true, stdin, stdout: true, stderr: true, detachKeys: str(opts.detachKeys) })
  const cleanups: (() => void)[] = []
  if (tty && process.stdout.isTTY) cleanups.push(monitorResize((h, w) => client.containerResize(info.Id, h, w)))
  if (opts.sigProxy !== false && !tty) cleanups.push(proxySignals((s) => client.containerKill(info.Id, s)))
  const wait = client.wait(info.Id, 'not-running')
  wait.result.catch(() => {})
  try {
    await pumpHijacked({ socket: stream.socket, tty, stdin, stdout: true, stderr: true })
  } finally {
    for (const c of cleanups) c()
  }
  const status = await exitOrDetached(client, info.Id, wait)
  if (status !== undefined) return status
  // docker attach (unlike run and start) reports the detach keys as an error.
  if (tty && stdin) {
    err('read escape sequence\n')
    return 1
  }
  return 0
}

/**
 * After an attach stream ends: the container's exit status, or undefined when
 * the user detached (ctrl-p ctrl-q) and it still runs. The stream can end a
 * moment before the daemon records the exit, so a running container is only
 * taken as detached once the wait has not answered for a while.
 */
export async function exitOrDetached(client: EngineClient, id: string, wait: WaitHandle): Promise<number | undefined> {
  const settled = await Promise.race([
    wait.result.then((r) => r.StatusCode, () => undefined),
    new Promise<'timeout'>((r) => setTimeout(r, 500, 'timeout')),
  ])
  if (settled !== 'timeout') {
    if (settled !== undefined) return settled
    const c = await client.containerInspect(id).catch(() => undefined)
    return c?.State.ExitCode ?? 0
  }
  const c = await client.containerInspect(id).catch(() => undefined)
  if (c?.State.Running) {
    wait.abort()
    return undefined
  }
  return wait.result.then((r) => r.StatusCode, () => c?.State.ExitCode ?? 0)
}

export const startCommand: Handler = async (containers, opts, ctx) => {
  const client = getClient(ctx.globals)
  if (bool(opts.attach) || bool(opts.interactive)) {
    if (containers.length > 1) {
      err('you cannot start and attach multiple containers at once\n')
      return 1
    }
    const id = containers[0] ?? ''
    const info = await client.containerInspect(id)
    const tty = !!info.Config.Tty
    const stdin = bool(opts.interactive) && !!info.Config.OpenStdin
    const stream = await client.attach(info.Id, { stream: true, stdin, stdout: true, stderr: true, detachKeys: str(opts.detachKeys) })
    const wait = client.wait(info.Id, 'next-exit')
    wait.result.catch(() => {})
    await wait.registered
    await client.containerStart(info.Id)
    const stop = tty && process.stdout.isTTY ? monitorResize((h, w) => client.containerResize(info.Id, h, w)) : () => {}
    try {
      await pumpHijacked({ socket: stream.socket, tty, stdin, stdout: true, stderr: true })
    } finally {
      stop()
    }
    return (await exitOrDetached(client, info.Id, wait)) ?? 0
  }
  const failed: string[] = []
  for (const c of containers) {
    try {
      await client.containerStart(c)
      out(`${c}\n`)
    } catch (e) {
      failed.push(c)
      err(`Error response from daemon: ${(e as Error).message}\n`)
    }
  }
  if (failed.length) {
    err(`Error: failed to start containers: ${failed.join(', ')}\n`)
    return 1
  }
  return 0
}

/** getTimestamp with docker's client wording for a bad --since/--until of logs. */
function timestampFlag(name: string, value: string): string {
  try {
    return getTimestamp(value)
  } catch (e) {
    throw new Error(`invalid value for "${name}": ${(e as Error).message}`)
  }
}

export const logsCommand: Handler = async ([container = ''], opts, ctx) => {
  const client = getClient(ctx.globals)
  const info = await client.containerInspect(container)
  const since = str(opts.since)
  const until = str(opts.until)
  const res = await client.logs(info.Id, {
    follow: bool(opts.follow),
    since: since ? timestampFlag('since', since) : undefined,
    until: until ? timestampFlag('until', until) : undefined,
    timestamps: bool(opts.timestamps),
    tail: str(opts.tail) ?? 'all',
    details: bool(opts.details),
  })
  if (info.Config.Tty) {
    for await (const chunk of res) process.stdout.write(chunk as Buffer)
  } else {
    await demuxStream(res, process.stdout, process.stderr)
  }
  return 0
}
