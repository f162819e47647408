/** Container listing and lifecycle commands; inspect (any object type) lives here too. */
import type { ContainerSummary } from '../../api/types/index.js'
import type { Handler } from '../app.js'
import { ClientError } from '../../client/index.js'
import { parseTemplate, dockerFuncs } from '../../gotemplate/index.js'
import { bool, configFormat, err, getClient, int, out, str, strs } from '../context.js'
import { parseFilters, parsePlatformFlag } from '../opts.js'
import { CONTAINER_HEADERS, containerRow, DEFAULT_CONTAINER_TABLE } from '../output/contexts.js'
import { QUIET_FORMAT, renderFormat, TABLE_KEY } from '../output/format.js'
import { humanSizeWithPrecision } from '../../lib/index.js'

/** docker's NewContainerFormat. */
export function containerFormat(source: string | undefined, quiet: boolean, size: boolean): string {
  if (!source || source === TABLE_KEY) {
    if (quiet) return QUIET_FORMAT
    return DEFAULT_CONTAINER_TABLE + (size ? '\t{{.Size}}' : '')
  }
  if (quiet) return QUIET_FORMAT
  return source
}

/**
 * Whether a ps format reads .Size, so the daemon must compute sizes: docker
 * executes the template against a recorder, where `{{json .}}` reads every field.
 */
export function templateUsesSize(format: string): boolean {
  return /\.Size\b/.test(format) || /\bjson\s+\.\s*\}\}/.test(format)
}

/**
 * docker ps runs the user's template once over an empty container before
 * listing (to see whether it reads .Size), so a bad template fails even when
 * no container matches.
 */
function checkPsTemplate(source: string | undefined): void {
  if (!source) return
  let tmpl
  try {
    tmpl = parseTemplate(source, { funcs: dockerFuncs })
  } catch (e) {
    throw new Error(`failed to parse template: ${(e as Error).message}`)
  }
  try {
    tmpl.execute(containerRow({ Id: '', Names: [], Image: '', ImageID: '', Command: '', Created: 0, Ports: [], Labels: {}, State: '', Status: '', HostConfig: { NetworkMode: '' }, NetworkSettings: { Networks: {} }, Mounts: [] } as unknown as ContainerSummary, true))
  } catch (e) {
    throw new Error(`failed to execute template: ${(e as Error).message}`)
  }
}

export const psCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const last = Number(str(opts.last) ?? '-1')
  let limit = Number.isInteger(last) && last > 0 ? last : 0
  if (bool(opts.latest) && limit === 0) limit = 1
  const given = str(opts.format) || configFormat('psFormat')
  const format = containerFormat(given, bool(opts.quiet), bool(opts.size))
  checkPsTemplate(given)
  // Like docker, ask for sizes when the template uses them.
  const size = bool(opts.size) || (!bool(opts.quiet) && templateUsesSize(format))
  const list = await client.containerList({ all: bool(opts.all) || limit > 0, size, limit, filters: parseFilters(strs(opts.filter)) })
  const trunc = opts.trunc !== false
  out(renderFormat(format, list.map((c) => containerRow(c, trunc)), CONTAINER_HEADERS))
}

/** Runs `fn` for each name, printing the name on success and docker's error otherwise. */
async function each(names: string[], fn: (name: string) => Promise<void>, echo = true): Promise<number> {
  let failed = false
  for (const n of names) {
    try {
      await fn(n)
      if (echo) out(`${n}\n`)
    } catch (e) {
      failed = true
      err(daemonMessage(e) + '\n')
    }
  }
  return failed ? 1 : 0
}

export function daemonMessage(e: unknown): string {
  if (e instanceof ClientError) return `Error response from daemon: ${e.message}`
  return (e as Error).message
}

export const stopCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const timeout = int(opts.timeout ?? opts.time, '-t, --timeout')
  return each(names, (n) => client.containerStop(n, { signal: str(opts.signal), timeout }))
}

export const restartCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const timeout = int(opts.timeout ?? opts.time, '-t, --timeout')
  return each(names, (n) => client.containerRestart(n, { signal: str(opts.signal), timeout }))
}

export const killCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  return each(names, (n) => client.containerKill(n, str(opts.signal)))
}

export const pauseCommand: Handler = async (names, _opts, ctx) => {
  const client = getClient(ctx.globals)
  return each(names, (n) => client.containerPause(n))
}

export const unpauseCommand: Handler = async (names, _opts, ctx) => {
  const client = getClient(ctx.globals)
  return each(names, (n) => client.containerUnpause(n))
}

export const rmCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  let failed = false
  for (const n of names) {
    try {
      await client.containerRemove(n, { force: bool(opts.force), volumes: bool(opts.volumes), link: bool(opts.link) })
      out(`${n}\n`)
    } catch (e) {
      err(daemonMessage(e) + '\n')
      // docker rm -f reports containers that are already gone but does not fail for them.
      if (!(bool(opts.force) && e instanceof ClientError && e.statusCode === 404)) failed = true
    }
  }
  return failed ? 1 : 0
}

export const waitCommand: Handler = async (names, _opts, ctx) => {
  const client = getClient(ctx.globals)
  return each(names, async (n) => {
    const res = await client.wait(n, 'not-running').result
    out(`${res.StatusCode}\n`)
  }, false)
}

export const topCommand: Handler = async ([container = '', ...psArgs], _opts, ctx) => {
  const client = getClient(ctx.globals)
  const top = await client.containerTop(container, psArgs.join(' '))
  const { tabwrite } = await import('../output/tabwriter.js')
  const lines = [top.Titles.join('\t'), ...top.Processes.map((p) => p.join('\t'))]
  // docker top: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
  out(tabwrite(lines.join('\n') + '\n', { minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ' }))
}

export const renameCommand: Handler = async ([oldName = '', newName = ''], _opts, ctx) => {
  const client = getClient(ctx.globals)
  if (!newName.trim() || !oldName.trim()) {
    err('Error: Neither old nor new names may be empty\n')
    return 1
  }
  try {
    await client.containerRename(oldName.trim(), newName.trim())
  } catch (e) {
    err(`${daemonMessage(e)}\nError: failed to rename container named ${oldName}\n`)
    return 1
  }
}

export const containerPruneCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  if (!bool(opts.force)) {
    const ok = await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ')
    if (!ok) return 0
  }
  const report = await client.containerPrune(parseFilters(strs(opts.filter)))
  const deleted = report.ContainersDeleted ?? []
  if (deleted.length) out(`Deleted Containers:\n${deleted.map((d) => `${d}\n`).join('')}\n`)
  out(`Total reclaimed space: ${humanSizeWithPrecision(report.SpaceReclaimed ?? 0, 3)}\n`)
}

/** docker 28's prompt.Confirm: one line from stdin; only y (any case) agrees. */
export async function confirm(question: string): Promise<boolean> {
  out(question)
  const { createInterface } = await import('node:readline')
  const rl = createInterface({ input: process.stdin })
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve)
    rl.once('close', () => resolve(''))
  })
  rl.close()
  return answer.trim().toLowerCase() === 'y'
}

/** Go's json.MarshalIndent with 4 spaces, escaping <, > and & as Go does. */
export function indentJSON(v: unknown): string {
  return JSON.stringify(v, null, 4).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)
}

/** docker inspect's object types, in its autodetect order; swarm objects only on a manager. */
const INSPECT_TYPES: ReadonlyArray<{ type: string; swarm?: boolean; path?: (name: string) => string }> = [
  { type: 'container' },
  { type: 'image' },
  { type: 'network' },
  { type: 'volume' },
  { type: 'service', swarm: true, path: (n) => `/services/${encodeURIComponent(n)}?insertDefaults=true` },
  { type: 'task', swarm: true, path: (n) => `/tasks/${encodeURIComponent(n)}` },
  { type: 'node', swarm: true, path: (n) => `/nodes/${encodeURIComponent(n)}` },
  { type: 'plugin', path: (n) => `/plugins/${encodeURIComponent(n)}/json` },
  { type: 'secret', swarm: true, path: (n) => `/secrets/${encodeURIComponent(n)}` },
  { type: 'config', swarm: true, path: (n) => `/configs/${encodeURIComponent(n)}` },
]
const ALL_TYPES = '"config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"'

/** docker's isErrSkippable: autodetect goes on to the next type. */
const skippable = (e: unknown) => (e instanceof ClientError && e.statusCode === 404) || /not supported|invalid reference format/.test((e as Error).message)

export const inspectCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const type = str(opts.type)
  const group = ctx.path.split(' ')[1]
  if (type === '') {
    err(`type is empty: must be one of ${ALL_TYPES}\n`)
    return 1
  }
  const kind = type ?? (group === 'container' ? 'container' : group === 'image' ? 'image' : undefined)
  if (kind && !INSPECT_TYPES.some((t) => t.type === kind)) {
    err(`unknown type: "${kind}": must be one of ${ALL_TYPES}\n`)
    return 1
  }
  const size = bool(opts.size)
  let platform: ReturnType<typeof parsePlatformFlag> | undefined
  try {
    platform = str(opts.platform) ? parsePlatformFlag(str(opts.platform) ?? '') : undefined
  } catch (e) {
    err(`${(e as Error).message}\n`)
    return 1
  }
  const inspectAs = (t: (typeof INSPECT_TYPES)[number], name: string): Promise<unknown> => {
    if (t.type === 'container') return client.containerInspect(name, { size })
    if (t.type === 'image') return client.imageInspect(name, platform ? { platform } : {})
    if (t.type === 'network') return client.networkInspect(name)
    if (t.type === 'volume') return client.volumeInspect(name)
    return client.json('GET', t.path?.(name) ?? '/')
  }
  // One Info call, the first time autodetect reaches a swarm type, as docker's isSwarmManager.
  let manager: Promise<boolean> | undefined
  const isManager = () =>
    (manager ??= client.info().then(
      (i) => (i as { Swarm?: { ControlAvailable?: boolean } }).Swarm?.ControlAvailable === true,
      (e: unknown) => {
        err(`${(e as Error).message}\n`)
        return false
      },
    ))
  const format = str(opts.format)
  let tmpl
  try {
    tmpl = format && format !== 'json' ? parseTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'), { funcs: dockerFuncs, missingKey: 'error' }) : undefined
  } catch (e) {
    err(`template parsing error: ${(e as Error).message}\n`)
    return 64
  }
  // As docker's inspect.Inspect: the output once every name is looked up, then the errors.
  let text = ''
  const found: unknown[] = []
  const errors: string[] = []
  for (const name of names) {
    try {
      let obj: unknown
      for (const t of INSPECT_TYPES) {
        if (kind ? t.type !== kind : t.swarm && !(await isManager())) continue
        try {
          obj = await inspectAs(t, name)
        } catch (e) {
          if (!kind && skippable(e)) continue
          throw e
        }
        if (size && t.type !== 'container') err(`WARNING: --size ignored for ${t.type}\n`)
        break
      }
      if (obj === undefined) throw new Error(`Error: No such object: ${name}`)
      if (tmpl) {
        try {
          text += tmpl.execute(obj) + '\n'
        } catch (e) {
          throw new Error(`template parsing error: ${(e as Error).message}`)
        }
      } else found.push(obj)
    } catch (e) {
      errors.push(e instanceof ClientError ? `Error response from daemon: ${e.message}` : (e as Error).message)
    }
  }
  if (tmpl) out(text || '\n')
  else if (format === 'json') out(JSON.stringify(found) + '\n')
  else out(found.length ? indentJSON(found) + '\n' : '[]\n')
  if (errors.length) err(`${errors.join('\n')}\n`)
  return errors.length ? 1 : 0
}
