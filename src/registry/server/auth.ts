/**
 * Credentials from an htpasswd file, as distribution's `htpasswd` auth, for
 * Basic auth and the token endpoint: bcrypt hashes only (`htpasswd -B`). Node has no bcrypt, so the check uses
 * the pure-JS `bcryptjs` package when it is installed and refuses to start
 * otherwise rather than accept passwords it cannot verify.
 */
import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'

type Compare = (password: string, hash: string) => Promise<boolean>

/** Load bcryptjs without a compile-time dependency on it. */
async function loadBcrypt(): Promise<Compare | null> {
  const specifier = 'bcryptjs'
  try {
    const mod = (await import(specifier)) as { compare?: Compare; default?: { compare?: Compare } }
    return mod.compare ?? mod.default?.compare ?? null
  } catch {
    return null
  }
}

export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const i = line.indexOf(':')
    if (i <= 0) continue
    users.set(line.slice(0, i), line.slice(i + 1))
  }
  return users
}

/** The user and password of a `Basic` Authorization header, or null. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const m = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!m) return null
  const text = Buffer.from(m[1]!, 'base64').toString('utf8')
  const i = text.indexOf(':')
  return i < 0 ? null : { user: text.slice(0, i), password: text.slice(i + 1) }
}

export class HtpasswdAuth {
  /** bcrypt is slow on purpose; a verified pair is remembered (by hash) for the process's life. */
  private readonly verified = new Set<string>()

  private constructor(
    private readonly users: Map<string, string>,
    private readonly compare: Compare,
    readonly realm: string,
  ) {}

  static async load(file: string, realm = 'berth-registry'): Promise<HtpasswdAuth> {
    const users = parseHtpasswd(await fsp.readFile(file, 'utf8'))
    for (const [user, hash] of users) {
      if (!/^\$2[aby]\$/.test(hash)) throw new Error(`htpasswd ${file}: user ${user}: only bcrypt entries are supported (htpasswd -B)`)
    }
    const compare = await loadBcrypt()
    if (!compare) throw new Error('htpasswd auth needs the npm package bcryptjs, which is not installed')
    return new HtpasswdAuth(users, compare, realm)
  }

  /** The user of a valid `Basic` Authorization header, or null. */
  async check(header: string | undefined): Promise<string | null> {
    const cred = parseBasicAuth(header)
    if (!cred) return null
    return (await this.verify(cred.user, cred.password)) ? cred.user : null
  }

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user)
    if (hash === undefined) return false
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex')
    if (this.verified.has(key)) return true
    if (!(await this.compare(password, hash))) return false
    this.verified.add(key)
    return true
  }

  /** Whether the file names `user`: a refresh token outlives nobody's removal. */
  hasUser(user: string): boolean {
    return this.users.has(user)
  }
}
