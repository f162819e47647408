/**
 * `berth context ls|create|update|use|show|inspect|rm`: docker's contexts
 * (cli/command/context), in the store the docker CLI uses, so a context made
 * by either CLI works in both.
 */
import { readFileSync } from 'node:fs'
import { DEFAULT_HOST } from '../../client/index.js'
import { dockerFuncs, parseTemplate } from '../../gotemplate/index.js'
import type { Handler, Opts } from '../app.js'
import { bool, err, out, str } from '../context.js'
import { contextName, ContextStore, DEFAULT_CONTEXT, validateContextName, type ContextMeta, type ContextTls } from '../contexts.js'
import { renderFormat } from '../output/format.js'
import { ellipsis } from '../output/contexts.js'
import { naturalCompare } from '../output/networks.js'
import { goStruct } from '../output/struct.js'
import { indentJSON } from './container.js'

const TABLE = 'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}'
const HEADERS = { Name: 'NAME', Description: 'DESCRIPTION', DockerEndpoint: 'DOCKER ENDPOINT', Error: 'ERROR' }
const DEFAULT_DESCRIPTION = 'Current DOCKER_HOST based configuration'
const HOST_OVERRIDE = 'BERTH_HOST'

/** The default context: -H, else $BERTH_HOST, else berthd's socket. */
function defaultMeta(globals: Opts): ContextMeta {
  const host = str(globals.host) || process.env[HOST_OVERRIDE] || DEFAULT_HOST
  return { Name: DEFAULT_CONTEXT, Metadata: { Description: DEFAULT_DESCRIPTION }, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }
}

/** The metadata of any context, `default` included. */
function metaOf(name: string, store: ContextStore, globals: Opts): ContextMeta {
  return name === DEFAULT_CONTEXT ? defaultMeta(globals) : store.get(name)
}

export const contextLsCommand: Handler = async (_args, opts, ctx) => {
  const store = new ContextStore()
  const current = contextName(ctx.globals, process.env, store)
  const rows = [defaultMeta(ctx.globals), ...store.list()].map((m) =>
    ({ Current: m.Name === current, Description: m.Metadata.Description ?? '', DockerEndpoint: m.Endpoints.docker?.Host ?? '', Error: '', Name: m.Name }))
  if (!rows.some((r) => r.Current)) {
    // docker lists a current context it cannot find, with the reason.
    let why = ''
    try {
      store.get(current)
    } catch (e) {
      why = (e as Error).message
    }
    rows.push({ Current: true, Description: '', DockerEndpoint: '', Error: why, Name: current })
  }
  rows.sort((a, b) => naturalCompare(a.Name, b.Name))
  const format = bool(opts.quiet) ? '{{.Name}}' : str(opts.format) || 'table'
  out(renderFormat(format === 'table' ? TABLE : format, rows.map((r) => goStruct('ClientContext', { ...r, Error: ellipsis(r.Error, 45) })), HEADERS))
  if (process.env[HOST_OVERRIDE]) {
    err(`Warning: ${HOST_OVERRIDE} environment variable overrides the active context. To use a context, either set the global --context flag, or unset ${HOST_OVERRIDE} environment variable.\n`)
  }
}

export const contextShowCommand: Handler = async (_args, _opts, ctx) => {
  out(`${contextName(ctx.globals, process.env, new ContextStore())}\n`)
}

export const contextUseCommand: Handler = async ([name = ''], _opts) => {
  const store = new ContextStore()
  if (name !== DEFAULT_CONTEXT) {
    validateContextName(name)
    store.get(name)
  }
  await store.setCurrent(name === DEFAULT_CONTEXT ? '' : name)
  out(`${name}\n`)
  err(`Current context is now ${JSON.stringify(name)}\n`)
  if (name !== DEFAULT_CONTEXT && process.env[HOST_OVERRIDE]) {
    err(`Warning: ${HOST_OVERRIDE} environment variable overrides the active context. To use ${JSON.stringify(name)}, either set the global --context flag, or unset ${HOST_OVERRIDE} environment variable.\n`)
  }
}

/** docker's `--docker` endpoint options: `host=…,ca=…,cert=…,key=…,skip-tls-verify=…` (files are read now). */
export function parseDockerEndpoint(value: string, base?: { host?: string; skipTLSVerify?: boolean; tls?: ContextTls }): { host: string; skipTLSVerify: boolean; tls: ContextTls } {
  const res = { host: base?.host ?? '', skipTLSVerify: base?.skipTLSVerify ?? false, tls: { ...(base?.tls ?? {}) } }
  const errors: string[] = []
  for (const field of value.split(',').filter(Boolean)) {
    const i = field.indexOf('=')
    const k = i < 0 ? field : field.slice(0, i)
    const v = i < 0 ? '' : field.slice(i + 1)
    const file = (what: 'ca' | 'cert' | 'key') => {
      try {
        res.tls[what] = readFileSync(v)
      } catch (e) {
        throw new Error(`unable to create docker endpoint config: open ${v}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, { cause: e })
      }
    }
    switch (k) {
      case 'host': res.host = v; break
      case 'ca': file('ca'); break
      case 'cert': file('cert'); break
      case 'key': file('key'); break
      case 'skip-tls-verify':
        if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v)) throw new Error(`unable to create docker endpoint config: skip-tls-verify: parsing ${JSON.stringify(v)}: invalid syntax`)
        res.skipTLSVerify = /^(1|t|T|TRUE|true|True)$/.test(v)
        break
      default: errors.push(`unrecognized config key: ${k}`)
    }
  }
  if (errors.length) throw new Error(`unable to create docker endpoint config: ${errors.join('\n')}`)
  if (res.host !== '' && !/^(unix|tcp|ssh|npipe|fd):\/\//.test(res.host)) throw new Error(`unable to create docker endpoint config: unable to parse docker host \`${res.host}\``)
  return res
}

export const contextCreateCommand: Handler = async ([name = ''], opts, ctx) => {
  const store = new ContextStore()
  validateContextName(name)
  if (store.exists(name)) throw new Error(`context ${JSON.stringify(name)} already exists`)
  const from = str(opts.from)
  const docker = str(opts.docker)
  if (from !== undefined && docker !== undefined) throw new Error('cannot use --docker flag when --from is set')
  let ep
  if (docker !== undefined) ep = parseDockerEndpoint(docker)
  else {
    // Without --docker, docker copies the current (or --from) context's endpoint.
    const source = from ?? contextName(ctx.globals, process.env, store)
    const m = metaOf(source, store, ctx.globals)
    ep = { host: m.Endpoints.docker?.Host ?? '', skipTLSVerify: m.Endpoints.docker?.SkipTLSVerify ?? false, tls: source === DEFAULT_CONTEXT ? {} : store.tls(source) }
  }
  if (ep.host === '') ep.host = DEFAULT_HOST
  const description = str(opts.description) ?? ''
  store.create({ Name: name, Metadata: description ? { Description: description } : {}, Endpoints: { docker: { Host: ep.host, SkipTLSVerify: ep.skipTLSVerify } } }, ep.tls)
  out(`${name}\n`)
  err(`Successfully created context ${JSON.stringify(name)}\n`)
}

export const contextUpdateCommand: Handler = async ([name = ''], opts) => {
  const store = new ContextStore()
  validateContextName(name)
  const m = store.get(name)
  const docker = str(opts.docker)
  const description = str(opts.description)
  if (description !== undefined) m.Metadata = { ...m.Metadata, Description: description }
  let tls = store.tls(name)
  if (docker !== undefined) {
    const ep = parseDockerEndpoint(docker, { host: m.Endpoints.docker?.Host ?? '', skipTLSVerify: m.Endpoints.docker?.SkipTLSVerify ?? false, tls })
    m.Endpoints = { ...m.Endpoints, docker: { Host: ep.host, SkipTLSVerify: ep.skipTLSVerify } }
    tls = ep.tls
  }
  // Written over in place: a failure leaves the old context, not none.
  store.create(m, tls)
  out(`${name}\n`)
  err(`Successfully updated context ${JSON.stringify(name)}\n`)
}

export const contextInspectCommand: Handler = async (names, opts, ctx) => {
  const store = new ContextStore()
  const list = names.length ? names : [contextName(ctx.globals, process.env, store)]
  const found: object[] = []
  const errors: string[] = []
  for (const name of list) {
    try {
      const m = metaOf(name, store, ctx.globals)
      const tls = name === DEFAULT_CONTEXT ? {} : store.tls(name)
      const material = Object.keys(tls).length ? { docker: Object.keys(tls).map((k) => `${k}.pem`).sort() } : {}
      const storage = name === DEFAULT_CONTEXT ? { MetadataPath: '<IN MEMORY>', TLSPath: '<IN MEMORY>' } : { MetadataPath: store.metaPath(name), TLSPath: store.tlsPath(name) }
      found.push({ Name: m.Name, Metadata: m.Metadata, Endpoints: m.Endpoints, TLSMaterial: material, Storage: storage })
    } catch (e) {
      errors.push((e as Error).message)
    }
  }
  const format = str(opts.format) ?? ''
  if (format !== '' && format !== 'json') {
    const tmpl = parseTemplate(format, { funcs: dockerFuncs })
    for (const v of found) out(`${tmpl.execute(v)}\n`)
  } else if (format === 'json') out(`${JSON.stringify(found)}\n`)
  else out(`${indentJSON(found).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n`)
  if (errors.length) {
    err(`${errors.join('\n')}\n`)
    return 1
  }
  return 0
}

export const contextRmCommand: Handler = async (names, opts, ctx) => {
  const store = new ContextStore()
  const current = contextName(ctx.globals, process.env, store)
  const force = bool(opts.force)
  const errors: string[] = []
  for (const name of names) {
    if (name === DEFAULT_CONTEXT) {
      errors.push('context "default" cannot be removed')
      continue
    }
    if (name === current) {
      if (!force) {
        errors.push(`context ${JSON.stringify(name)} is in use, set -f flag to force remove`)
        continue
      }
      await store.setCurrent('')
    }
    if (!force && !store.exists(name)) {
      errors.push(`context ${JSON.stringify(name)} does not exist`)
      continue
    }
    store.remove(name)
    out(`${name}\n`)
  }
  if (errors.length) {
    err(`${errors.join('\n')}\n`)
    return 1
  }
  return 0
}
