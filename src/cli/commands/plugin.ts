/**
 * `berth plugin ls|inspect|install|create|enable|disable|push|rm|set|upgrade`:
 * docker's managed-plugin commands (docker/cli cli/command/plugin and the
 * engine client's plugin_*.go) over the plugin API. berthd keeps no managed
 * plugins, so against it these list nothing and print what the daemon
 * answers; against a dockerd they do what docker's do.
 *
 * The reference parsing is distribution/reference's ParseNormalizedNamed
 * with its exact error texts, which ../reference.ts only approximates: the
 * plugin commands print those errors as they are.
 */
import { lstatSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { JSONMessage } from '../../api/types/index.js'
import { ClientError, encodeFilters, readJSONStream, type EngineClient } from '../../client/index.js'
import { dockerFuncs, parseTemplate } from '../../gotemplate/index.js'
import { familiarString, formatReference, parseNormalizedNamed, withDefaultTag, type Reference } from '../../oci/index.js'
import type { Handler } from '../app.js'
import { bool, err, getClient, int, out, str, strs } from '../context.js'
import { loadDockerConfig, registryAuthHeader } from '../credentials.js'
import { parseFilters } from '../opts.js'
import { ellipsis } from '../output/contexts.js'
import { QUIET_FORMAT, renderFormat, TABLE_KEY } from '../output/format.js'
import { naturalCompare } from '../output/networks.js'
import { ProgressRenderer } from '../output/progress.js'
import { goStruct } from '../output/struct.js'
import { compressContext, contextTar } from './build-context.js'
import { confirm } from './container.js'

/**
 * The parts of the engine's types.Plugin the CLI reads. Kept here rather
 * than in api/types because berthd never produces one; the CLI only meets
 * them from a dockerd.
 */
export interface PluginWire {
  Id?: string
  Name?: string
  Enabled?: boolean
  PluginReference?: string
  Config?: { Description?: string }
}

/** One privilege of GET /plugins/privileges. */
interface PluginPrivilege {
  Name: string
  Description: string
  Value: string[] | null
}

// ---------------------------------------------------------------- requests

/** Go's url path escaping (url.URL.EscapedPath): what the engine client sends for a plugin name. */
export function escapePathSegment(s: string): string {
  let res = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    res += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return res
}

/** The engine client's trimID("plugin", …): names are trimmed, and an empty one is refused before any request. */
function pluginPath(name: string, suffix = ''): string {
  const t = name.trim()
  if (t === '') throw new Error('invalid plugin name or ID: value is empty')
  return `/plugins/${escapePathSegment(t)}${suffix}`
}

function daemonError(e: unknown): string {
  return e instanceof ClientError ? `Error response from daemon: ${e.message}` : (e as Error).message
}

/** jsonstream.Display onto stdout. */
async function display(res: Readable): Promise<void> {
  const renderer = new ProgressRenderer(out, { isTerminal: !!process.stdout.isTTY, width: process.stdout.columns })
  for await (const msg of readJSONStream<JSONMessage>(res)) renderer.render(msg)
}

// ---------------------------------------------------------------- ls

export const PLUGIN_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Description}}\t{{.Enabled}}'
export const PLUGIN_HEADERS = { ID: 'ID', Name: 'NAME', Description: 'DESCRIPTION', Enabled: 'ENABLED', PluginReference: 'IMAGE' }

/** docker's plugin NewFormat: only `table` and `raw` heed --quiet. */
export function pluginFormat(source: string, quiet: boolean): string {
  if (source === TABLE_KEY) return quiet ? QUIET_FORMAT : PLUGIN_TABLE
  if (source === 'raw') {
    return quiet ? 'plugin_id: {{.ID}}' : 'plugin_id: {{.ID}}\\nname: {{.Name}}\\ndescription: {{.Description}}\\nenabled: {{.Enabled}}\\n'
  }
  return source
}

/** stringid.TruncateID. */
function truncateID(id: string): string {
  const i = id.indexOf(':')
  const s = i >= 0 ? id.slice(i + 1) : id
  return s.length > 12 ? s.slice(0, 12) : s
}

/** docker's pluginContext as template data; fields in json.Marshal's order of its map. */
export function pluginRow(p: PluginWire, trunc: boolean): object {
  let desc = (p.Config?.Description ?? '').replace(/[\n\r]/g, '')
  if (trunc) desc = ellipsis(desc, 45)
  const id = p.Id ?? ''
  return goStruct('plugin.pluginContext', {
    Description: desc, Enabled: p.Enabled ?? false, ID: trunc ? truncateID(id) : id, Name: p.Name ?? '', PluginReference: p.PluginReference ?? '',
  })
}

/** config.json's `pluginsFormat`, ignored when unreadable, as the other default formats are. */
function configPluginsFormat(): string | undefined {
  try {
    const v = loadDockerConfig().pluginsFormat
    return typeof v === 'string' && v !== '' ? v : undefined
  } catch {
    return undefined
  }
}

export const pluginLsCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const filters = encodeFilters(parseFilters(strs(opts.filter)))
  const list = (await client.json<PluginWire[] | null>('GET', '/plugins', { query: { filters } })) ?? []
  list.sort((a, b) => naturalCompare(a.Name ?? '', b.Name ?? ''))
  const quiet = bool(opts.quiet)
  const source = str(opts.format) || (quiet ? undefined : configPluginsFormat()) || TABLE_KEY
  out(renderFormat(pluginFormat(source, quiet), list.map((p) => pluginRow(p, opts.trunc !== false)), PLUGIN_HEADERS))
}

// ---------------------------------------------------------------- inspect

/** Go's json.Compact / json.Indent over the raw bodies: key order and escapes as the daemon sent them. */
function rawJSON(bodies: string[], indent: boolean): string {
  const list = `[${bodies.map((b) => b.trim()).join(',')}]`
  return indent ? JSON.stringify(JSON.parse(list), null, 4) : JSON.stringify(JSON.parse(list))
}

export const pluginInspectCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const format = str(opts.format) ?? ''
  let tmpl
  if (format !== '' && format !== 'json') {
    try {
      tmpl = parseTemplate(format, { funcs: dockerFuncs })
    } catch (e) {
      err(`template parsing error: ${(e as Error).message}\n`)
      return 64
    }
  }
  const errors: string[] = []
  const bodies: string[] = []
  let text = ''
  for (const name of names) {
    let body: string
    try {
      body = (await client.request('GET', pluginPath(name, '/json'))).body.toString()
    } catch (e) {
      errors.push(daemonError(e))
      continue
    }
    if (!tmpl) {
      bodies.push(body)
      continue
    }
    try {
      text += tmpl.execute(JSON.parse(body)) + '\n'
    } catch (e) {
      errors.push(`template parsing error: ${(e as Error).message}`)
    }
  }
  if (tmpl) out(text === '' ? '\n' : text)
  else out(bodies.length ? `${rawJSON(bodies, format === '')}\n` : '[]\n')
  if (errors.length) {
    err(`${errors.join('\n')}\n`)
    return 1
  }
  return 0
}

// ---------------------------------------------------------------- install, upgrade

/**
 * GET /plugins/privileges, then docker's consent prompt unless
 * --grant-all-permissions; the privileges are what the pull must be sent.
 */
async function acceptedPrivileges(client: EngineClient, remote: string, shown: string, auth: string, grantAll: boolean): Promise<PluginPrivilege[]> {
  const privileges = (await client.json<PluginPrivilege[] | null>('GET', '/plugins/privileges', { query: { remote }, headers: { 'X-Registry-Auth': auth } })) ?? []
  if (!grantAll && privileges.length) {
    let s = `Plugin ${JSON.stringify(shown)} is requesting the following privileges:\n`
    for (const p of privileges) s += ` - ${p.Name}: [${(p.Value ?? []).join(' ')}]\n`
    out(s)
    if (!(await confirm('Do you grant the above permissions? [y/N] '))) throw new Error(`permission denied while installing plugin ${remote}`)
  }
  return privileges
}

export const pluginInstallCommand: Handler = async ([remoteArg = '', ...args], opts, ctx) => {
  const client = getClient(ctx.globals)
  let localName = ''
  const alias = str(opts.alias)
  if (alias) {
    const a = parseNormalizedNamed(alias)
    if (a.digest) throw new Error(`invalid name: ${alias}`)
    localName = familiarString(withDefaultTag(a))
  }
  const remote = formatReference(parseNormalizedNamed(remoteArg))
  const auth = await registryAuthHeader(remoteArg)
  const privileges = await acceptedPrivileges(client, remote, remoteArg, auth, bool(opts.grantAllPermissions))
  const res = await client.stream('POST', '/plugins/pull', { query: { name: localName, remote }, body: privileges, headers: { 'X-Registry-Auth': auth } })
  const name = [res.headers['docker-plugin-name']].flat()[0] ?? ''
  await display(res)
  if (args.length) await client.request('POST', pluginPath(name, '/set'), { body: args })
  if (!bool(opts.disable)) await client.request('POST', pluginPath(name, '/enable'), { query: { timeout: 0 } })
  out(`Installed plugin ${remoteArg}\n`)
}

export const pluginUpgradeCommand: Handler = async ([local = '', remoteArg], opts, ctx) => {
  const client = getClient(ctx.globals)
  let p: PluginWire
  try {
    p = await client.json<PluginWire>('GET', pluginPath(local, '/json'))
  } catch (e) {
    throw new Error(`error reading plugin data: ${daemonError(e)}`)
  }
  if (p.Enabled) throw new Error('the plugin must be disabled before upgrading')
  const name = p.Name ?? ''
  const remoteText = remoteArg ?? p.PluginReference ?? ''
  let remote: Reference
  try {
    remote = withDefaultTag(parseNormalizedNamed(remoteText))
  } catch (e) {
    throw new Error(`error parsing remote upgrade image reference: ${(e as Error).message}`)
  }
  let old: Reference
  try {
    old = withDefaultTag(parseNormalizedNamed(p.PluginReference ?? ''))
  } catch (e) {
    throw new Error(`error parsing current image reference: ${(e as Error).message}`)
  }
  out(`Upgrading plugin ${name} from ${familiarString(old)} to ${familiarString(remote)}\n`)
  if (!bool(opts.skipRemoteCheck) && formatReference(remote) !== formatReference(old)) {
    // docker's cancelledErr: a declined upgrade ends quietly and successfully.
    if (!(await confirm('Plugin images do not match, are you sure? [y/N] '))) return 0
  }
  // buildPullConfig parses the text again: the query carries the untagged form.
  const query = formatReference(parseNormalizedNamed(remoteText))
  const auth = await registryAuthHeader(remoteText)
  const upgradePath = pluginPath(name, '/upgrade')
  const privileges = await acceptedPrivileges(client, query, remoteText, auth, bool(opts.grantAllPermissions))
  let res
  try {
    res = await client.stream('POST', upgradePath, { query: { remote: query }, body: privileges, headers: { 'X-Registry-Auth': auth } })
  } catch (e) {
    if (e instanceof ClientError && e.message.includes('target is image')) throw new Error(`${daemonError(e)} - Use \`docker image pull\``)
    throw e
  }
  await display(res)
  out(`Upgraded plugin ${name} to ${remoteText}\n`)
}

// ---------------------------------------------------------------- create

/**
 * What encoding/json's Decoder says of config.json when it cannot fill a
 * types.PluginConfig from it, or undefined. Only the first value counts;
 * the texts cover the common cases, not every one of Go's.
 */
export function pluginConfigProblem(text: string): string | undefined {
  const t = text.trimStart()
  if (t === '') return 'EOF'
  const c = t[0] ?? ''
  if (!/[{["\-0-9tfn]/.test(c)) return `invalid character '${c}' looking for beginning of value`
  const end = c === '{' || c === '[' || c === '"' ? firstValueEnd(t) : t.search(/[\s,\]}]|$/)
  if (end < 0) return 'unexpected EOF'
  let v: unknown
  try {
    v = JSON.parse(t.slice(0, end))
  } catch (e) {
    return (e as Error).message
  }
  if (v === null || (typeof v === 'object' && !Array.isArray(v))) return undefined
  const kind = Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool'
  return `json: cannot unmarshal ${kind} into Go value of type types.PluginConfig`
}

/** Index just past the object, array or string that `s` starts with, or -1 when it is cut short. */
function firstValueEnd(s: string): number {
  let depth = 0
  let inString = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') {
        inString = false
        if (depth === 0) return i + 1
      }
      continue
    }
    if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      depth--
      if (depth === 0) return i + 1
    }
  }
  return -1
}

/** Go's os.PathError text for a failed open/lstat. */
function pathError(op: string, p: string, e: unknown): string {
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links',
  }
  return `${op} ${p}: ${texts[(e as NodeJS.ErrnoException).code ?? ''] ?? (e as Error).message}`
}

export const pluginCreateCommand: Handler = async ([repoName = '', dir = ''], opts, ctx) => {
  parseNormalizedNamed(repoName)
  const abs = path.resolve(dir)
  let st
  try {
    st = lstatSync(abs)
  } catch (e) {
    throw new Error(pathError('lstat', abs, e))
  }
  if (!st.isDirectory()) throw new Error('context must be a directory')
  const configPath = path.join(dir, 'config.json')
  let text: string
  try {
    text = readFileSync(configPath, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new Error(`read ${configPath}: is a directory`)
    throw new Error(pathError('open', configPath, e))
  }
  const problem = pluginConfigProblem(text)
  if (problem) throw new Error(problem)
  const tar = contextTar(abs, { excludes: [] })
  const body = bool(opts.compress) ? compressContext(tar) : tar
  const client = getClient(ctx.globals)
  await client.request('POST', '/plugins/create', { query: { name: repoName }, body, headers: { 'Content-Type': 'application/x-tar' } })
  out(`${repoName}\n`)
}

// ---------------------------------------------------------------- enable, disable, rm, set, push

export const pluginEnableCommand: Handler = async ([name = ''], opts, ctx) => {
  const timeout = int(opts.timeout, '--timeout') ?? 30
  if (timeout < 0) throw new Error(`negative timeout ${timeout} is invalid`)
  await getClient(ctx.globals).request('POST', pluginPath(name, '/enable'), { query: { timeout } })
  out(`${name}\n`)
}

export const pluginDisableCommand: Handler = async ([name = ''], opts, ctx) => {
  await getClient(ctx.globals).request('POST', pluginPath(name, '/disable'), { query: { force: bool(opts.force) ? '1' : undefined } })
  out(`${name}\n`)
}

export const pluginRmCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const errors: string[] = []
  for (const name of names) {
    try {
      await client.request('DELETE', pluginPath(name), { query: { force: bool(opts.force) ? '1' : undefined } })
      out(`${name}\n`)
    } catch (e) {
      errors.push(daemonError(e))
    }
  }
  if (!errors.length) return 0
  // docker joins the errors (errors.Join) and exits 1.
  err(`${errors.join('\n')}\n`)
  return 1
}

export const pluginSetCommand: Handler = async ([name = '', ...settings], _opts, ctx) => {
  await getClient(ctx.globals).request('POST', pluginPath(name, '/set'), { body: settings })
}

export const pluginPushCommand: Handler = async ([nameArg = ''], _opts, ctx) => {
  const named = parseNormalizedNamed(nameArg)
  if (named.digest) throw new Error(`invalid name: ${nameArg}`)
  const familiar = familiarString(withDefaultTag(named))
  const client = getClient(ctx.globals)
  const res = await client.stream('POST', pluginPath(familiar, '/push'), { headers: { 'X-Registry-Auth': await registryAuthHeader(nameArg) } })
  await display(res)
}
