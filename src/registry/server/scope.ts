/**
 * Token scopes (distribution docs/spec/auth/scope.md): what a request needs
 * (`repository:a/b:pull,push`, `registry:catalog:*`), what a token grants
 * (its `access` claim), and the scope text of a challenge or token request.
 * The access a route needs follows distribution's handlers/app.go: GET/HEAD
 * pull; POST/PUT/PATCH pull and push; DELETE delete; a mount's `from` pull;
 * the catalog `registry:catalog:*`; `/v2/` only a valid token.
 */
import { isRepositoryName, type Route } from './routes.js'

/** Actions on one resource: a scope entry, and the shape of a JWT `access` claim entry. */
export interface ResourceActions {
  type: string
  name: string
  actions: string[]
}

const TYPE_RE = /^([a-z0-9]+)(?:\([a-z0-9]+\))?$/
const ACTION_RE = /^[a-z]*$|^\*$/

/**
 * One resource scope, `type:name:action[,action]`, or null if malformed. The
 * name may hold a `:` (a registry host's port), so type and actions are cut
 * at the first and last colons. A class (`repository(plugin)`) is dropped:
 * the spec deprecates it and compares the plain type.
 */
export function parseResourceScope(text: string): ResourceActions | null {
  const first = text.indexOf(':')
  const last = text.lastIndexOf(':')
  if (first <= 0 || last === first) return null
  const type = TYPE_RE.exec(text.slice(0, first))?.[1]
  const name = text.slice(first + 1, last)
  const actions = text.slice(last + 1).split(',').filter((a) => a !== '')
  if (type === undefined || name === '' || /\s/.test(name) || !actions.every((a) => ACTION_RE.test(a))) return null
  return { type, name, actions: [...new Set(actions)] }
}

/**
 * Every resource scope in a list of `scope` values, each of which may hold
 * several separated by spaces (GET repeats the parameter, POST joins them).
 * Malformed entries are skipped, as distribution's token server does: asking
 * for nonsense gets no access rather than an error. Repeats merge.
 */
export function parseScopes(values: Iterable<string>): ResourceActions[] {
  const out: ResourceActions[] = []
  for (const v of values) {
    for (const part of v.split(' ')) {
      if (part === '') continue
      const r = parseResourceScope(part)
      if (r) mergeInto(out, r)
    }
  }
  return out
}

function mergeInto(list: ResourceActions[], r: ResourceActions): void {
  const have = list.find((x) => x.type === r.type && x.name === r.name)
  if (!have) list.push({ ...r, actions: [...r.actions] })
  else for (const a of r.actions) if (!have.actions.includes(a)) have.actions.push(a)
}

/** The scope text for a challenge or a token response: entries joined by spaces. */
export function formatScopes(list: readonly ResourceActions[]): string {
  return list.filter((r) => r.actions.length > 0).map((r) => `${r.type}:${r.name}:${r.actions.join(',')}`).join(' ')
}

/** What a request needs; empty for `/v2/` (any valid credential will do) and for paths that are no route. */
export function requiredAccess(route: Route | null, method: string, query: URLSearchParams): ResourceActions[] {
  if (!route || route.kind === 'base') return []
  if (route.kind === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }]
  const out: ResourceActions[] = []
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push']
  out.push({ type: 'repository', name: route.name, actions })
  // A mount reads the source repository; a name that is not one cannot be mounted from, so it needs nothing.
  const from = query.get('from')
  if (from !== null && isRepositoryName(from)) mergeInto(out, { type: 'repository', name: from, actions: ['pull'] })
  return out
}

/** Whether `granted` allows `action` on a resource: the action itself or `*`. */
export function allows(granted: readonly ResourceActions[], type: string, name: string, action: string): boolean {
  return granted.some((g) => g.type === type && g.name === name && (g.actions.includes(action) || g.actions.includes('*')))
}

/** The part of `needed` that `granted` does not cover, per resource; empty when all is covered. */
export function missingAccess(granted: readonly ResourceActions[], needed: readonly ResourceActions[]): ResourceActions[] {
  const out: ResourceActions[] = []
  for (const n of needed) {
    const actions = n.actions.filter((a) => !allows(granted, n.type, n.name, a))
    if (actions.length) out.push({ type: n.type, name: n.name, actions })
  }
  return out
}

/**
 * Who may do what: the actions `user` (null: anonymous) may take on a
 * resource. The token server grants the intersection with what was asked;
 * the registry tells 401 (ask again) from 403 (asking will not help) with it.
 */
export type AccessPolicy = (user: string | null, type: string, name: string) => readonly string[]

/**
 * berth's one policy: every htpasswd user may do everything, anonymous
 * clients may pull when `anonymousPull` is set and nothing otherwise.
 */
export function htpasswdPolicy(opts: { anonymousPull?: boolean } = {}): AccessPolicy {
  return (user, type, name) => {
    if (user !== null) {
      if (type === 'repository') return ['pull', 'push', 'delete', '*']
      if (type === 'registry' && name === 'catalog') return ['*']
      return []
    }
    return opts.anonymousPull && type === 'repository' ? ['pull'] : []
  }
}

/** What to put in a token for `user` who asked for `requested`: per resource, the asked actions the policy allows. */
export function grantAccess(policy: AccessPolicy, user: string | null, requested: readonly ResourceActions[]): ResourceActions[] {
  const out: ResourceActions[] = []
  for (const r of requested) {
    const allowed = policy(user, r.type, r.name)
    const actions = r.actions.filter((a) => allowed.includes(a) || (a !== '*' && allowed.includes('*')))
    if (actions.length) out.push({ type: r.type, name: r.name, actions })
  }
  return out
}
