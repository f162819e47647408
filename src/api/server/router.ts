import type { Ctx } from './context.js'

export type Handler = (ctx: Ctx) => Promise<void> | void
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE'

interface Route {
  method: Method
  re: RegExp
  names: string[]
  handler: Handler
}

/**
 * Path patterns with `{name}` (one segment) and `{name:.*}` (greedy: image
 * references such as `127.0.0.1:5000/x/y:tag` appear raw in paths).
 */
export class Router {
  private readonly routes: Route[] = []

  get(p: string, h: Handler): void { this.add('GET', p, h) }
  head(p: string, h: Handler): void { this.add('HEAD', p, h) }
  post(p: string, h: Handler): void { this.add('POST', p, h) }
  put(p: string, h: Handler): void { this.add('PUT', p, h) }
  delete(p: string, h: Handler): void { this.add('DELETE', p, h) }

  add(method: Method, pattern: string, handler: Handler): void {
    const names: string[] = []
    const src = pattern.replace(/[.+?^$()[\]|\\]/g, '\\$&').replace(/\{(\w+)(?::([^}]+))?\}/g, (_m, name: string, re?: string) => {
      names.push(name)
      return re ? `(${re.replace(/\\\./g, '.')})` : '([^/]+)'
    })
    this.routes.push({ method, re: new RegExp(`^${src}$`), names, handler })
  }

  /** The handler for a method and path, or which methods the path allows (the server answers 404 all the same, as dockerd). */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { allowed: Method[] } {
    const allowed: Method[] = []
    for (const r of this.routes) {
      const m = r.re.exec(path)
      if (!m) continue
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) {
        allowed.push(r.method)
        continue
      }
      const params: Record<string, string> = {}
      r.names.forEach((n, i) => {
        params[n] = safeDecode(m[i + 1] ?? '')
      })
      return { handler: r.handler, params }
    }
    return { allowed }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
