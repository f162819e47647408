/**
 * `berth login` and `berth logout`, as docker 28's: the daemon checks the
 * credentials with the registry (POST /auth), the CLI keeps them in docker's
 * config.json or credential helper.
 */
import type { Handler } from '../app.js'
import { bool, err, getClient, out, str } from '../context.js'
import { CredentialStore, INDEX_SERVER, serverKey, type Credentials } from '../credentials.js'

/** What the user gave on the command line; each missing part is prompted for. */
export interface LoginInput {
  server: string
  username?: string
  password?: string
  passwordStdin: boolean
}

/** docker's checks of the flag combination, before anything is read or sent. */
export function checkLoginFlags(i: LoginInput): string | undefined {
  if (i.password !== undefined && i.passwordStdin) return '--password and --password-stdin are mutually exclusive'
  if (i.passwordStdin && !i.username) return 'Must provide --username with --password-stdin'
  return undefined
}

/** A password piped in: one trailing newline (and CR) is not part of it, as docker trims. */
export function trimStdinPassword(s: string): string {
  return s.replace(/\n$/, '').replace(/\r$/, '')
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks).toString('utf8')
}

/** One line from the terminal, echoed. */
async function readLine(prompt: string): Promise<string> {
  out(prompt)
  const { createInterface } = await import('node:readline')
  const rl = createInterface({ input: process.stdin })
  const line = await new Promise<string>((resolve) => {
    rl.once('line', resolve)
    rl.once('close', () => resolve(''))
  })
  rl.close()
  return line
}

/** A line from the terminal with echo off (raw mode, so nothing typed is shown). */
function readSecret(prompt: string): Promise<string> {
  out(prompt)
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    let value = ''
    const done = (fn: () => void): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      out('\n')
      fn()
    }
    const onData = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(() => resolve(value))
        if (ch === '\u0003') return done(() => reject(new Error('interrupted')))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}

export const loginCommand: Handler = async ([server], opts, ctx) => {
  const input: LoginInput = {
    server: server ?? INDEX_SERVER,
    username: str(opts.username),
    password: str(opts.password),
    passwordStdin: bool(opts.passwordStdin),
  }
  const problem = checkLoginFlags(input)
  if (problem) {
    err(`${problem}\n`)
    return 1
  }
  if (input.password !== undefined) err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n')
  if (input.passwordStdin) input.password = trimStdinPassword(await readAllStdin())
  const key = serverKey(input.server)
  const store = new CredentialStore()
  const client = getClient(ctx.globals)

  let creds: Credentials | undefined
  if (input.username === undefined && input.password === undefined) {
    // As docker: try what is stored before asking.
    const stored = await store.get(key)
    if (stored && (stored.username || stored.identityToken)) {
      err(`Authenticating with existing credentials... [Username: ${stored.username}]\n`)
      try {
        const res = await client.auth({ username: stored.username, password: stored.password, serveraddress: key, ...(stored.identityToken ? { identitytoken: stored.identityToken } : {}) })
        creds = { ...stored, ...(res.IdentityToken ? { identityToken: res.IdentityToken, password: '' } : {}) }
      } catch (e) {
        err(`Login did not succeed, error: ${(e as Error).message}\n`)
      }
    }
  }
  if (!creds) {
    let username = input.username
    let password = input.password
    if (username === undefined || password === undefined) {
      if (!process.stdin.isTTY) {
        err('Error: Cannot perform an interactive login from a non TTY device\n')
        return 1
      }
      if (username === undefined) {
        if (key === INDEX_SERVER) out("Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.\n")
        username = (await readLine('Username: ')).trim()
        if (!username) {
          err('Error: Non-null Username Required\n')
          return 1
        }
      }
      if (password === undefined) {
        password = await readSecret('Password: ')
        if (!password) {
          err('Error: Password Required\n')
          return 1
        }
      }
    }
    const res = await client.auth({ username, password, serveraddress: key })
    creds = { serverAddress: key, username, password, ...(res.IdentityToken ? { identityToken: res.IdentityToken, password: '' } : {}) }
  }
  const where = await store.store(creds)
  if (where.file) {
    err(`\nWARNING! Your credentials are stored unencrypted in '${where.file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`)
  }
  out('Login Succeeded\n')
}

export const logoutCommand: Handler = async ([server]) => {
  const key = serverKey(server ?? INDEX_SERVER)
  const store = new CredentialStore()
  const cfg = await store.load()
  // As docker: the config file's auths list says whether there is a login, even with a helper.
  const known = Object.keys(cfg.auths ?? {}).some((k) => k === key || serverKey(k) === key)
  if (!known) {
    out(`Not logged in to ${key}\n`)
    return
  }
  out(`Removing login credentials for ${key}\n`)
  try {
    await store.erase(key)
  } catch (e) {
    err(`WARNING: could not erase credentials:\n${key}: ${(e as Error).message}\n`)
  }
}
