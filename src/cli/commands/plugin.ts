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

// ---------------------------------------------------------------- references

/** A reference split as distribution/reference holds it. */
export interface NamedRef {
  domain: string
  path: string
  tag?: string
  digest?: string
}

const DEFAULT_DOMAIN = 'docker.io'
const ALNUM = '[a-z0-9]+'
const SEPARATOR = '(?:[._]|__|[-]+)'
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])`
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}'
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`)
/** go-digest's algorithms in the docker CLI binary, by encoded length. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 }

/** go-digest's Digest.Validate: the error text, or undefined. */
function digestProblem(d: string): string | undefined {
  const i = d.indexOf(':')
  if (i <= 0 || i + 1 === d.length) return 'invalid checksum digest format'
  const algorithm = d.slice(0, i)
  const encoded = d.slice(i + 1)
  const size = DIGEST_HEX_LENGTH[algorithm]
  if (size === undefined) return new RegExp(`^${DIGEST}$`).test(d) ? 'unsupported digest algorithm' : 'invalid checksum digest format'
  if (encoded.length !== size) return 'invalid checksum digest length'
  if (!/^[a-f0-9]+$/.test(encoded)) return 'invalid checksum digest format'
  return undefined
}

/** distribution/reference's ParseNormalizedNamed; throws its error text. */
export function parseNormalizedNamed(s: string): NamedRef {
  if (/^[a-f0-9]{64}$/.test(s)) throw new Error(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`)
  // splitDockerDomain: a first component that is no host name belongs to Docker Hub.
  const i = s.indexOf('/')
  let domain: string
  let remainder: string
  const first = i < 0 ? '' : s.slice(0, i)
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN
    remainder = s
  } else {
    domain = first
    remainder = s.slice(i + 1)
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `library/${remainder}`
  const tagSep = remainder.indexOf(':')
  const remoteName = tagSep < 0 ? remainder : remainder.slice(0, tagSep)
  if (remoteName.toLowerCase() !== remoteName) throw new Error(`invalid reference format: repository name (${remoteName}) must be lowercase`)
  const full = `${domain}/${remainder}`
  const m = REFERENCE_RE.exec(full)
  if (!m) {
    if (REFERENCE_RE.test(full.toLowerCase())) throw new Error('repository name must be lowercase')
    throw new Error('invalid reference format')
  }
  const name = m[1] ?? ''
  if (name.length > 255) throw new Error('repository name must not be more than 255 characters')
  const digest = m[3]
  if (digest) {
    const problem = digestProblem(digest)
    if (problem) throw new Error(problem)
  }
  return { domain, path: name.slice(domain.length + 1), ...(m[2] ? { tag: m[2] } : {}), ...(digest ? { digest } : {}) }
}

/** reference.TagNameOnly: a name alone gets `latest`. */
export function tagNameOnly(r: NamedRef): NamedRef {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' }
}

/** Named.String(): the fully qualified form. */
export function refString(r: NamedRef): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`
}

/** reference.FamiliarString: Docker Hub's domain and `library/` left out. */
export function familiarRefString(r: NamedRef): string {
  let name = `${r.domain}/${r.path}`
  if (r.domain === DEFAULT_DOMAIN) {
    const rest = r.path.startsWith('library/') ? r.path.slice('library/'.length) : undefined
    name = rest !== undefined && !rest.includes('/') ? rest : r.path
  }
  return `${name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`
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
    localName = familiarRefString(tagNameOnly(a))
  }
  const remote = refString(parseNormalizedNamed(remoteArg))
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
  let remote: NamedRef
  try {
    remote = tagNameOnly(parseNormalizedNamed(remoteText))
  } catch (e) {
    throw new Error(`error parsing remote upgrade image reference: ${(e as Error).message}`)
  }
  let old: NamedRef
  try {
    old = tagNameOnly(parseNormalizedNamed(p.PluginReference ?? ''))
  } catch (e) {
    throw new Error(`error parsing current image reference: ${(e as Error).message}`)
  }
  out(`Upgrading plugin ${name} from ${familiarRefString(old)} to ${familiarRefString(remote)}\n`)
  if (!bool(opts.skipRemoteCheck) && refString(remote) !== refString(old)) {
    // docker's cancelledErr: a declined upgrade ends quietly and successfully.
    if (!(await confirm('Plugin images do not match, are you sure? [y/N] '))) return 0
  }
  // buildPullConfig parses the text again: the query carries the untagged form.
  const query = refString(parseNormalizedNamed(remoteText))
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
  const familiar = familiarRefString(tagNameOnly(named))
  const client = getClient(ctx.globals)
  const res = await client.stream('POST', pluginPath(familiar, '/push'), { headers: { 'X-Registry-Auth': await registryAuthHeader(nameArg) } })
  await display(res)
}
