/**
 * The path rules of `docker cp` (docker/cli cli/command/container/cp.go and
 * moby/go-archive copy.go, v0.1.0 as vendored by the 28.2 CLI). They are
 * Go's path/filepath semantics, which Node's path module does not share
 * (filepath.Dir("/a/b/") is "/a/b", Base("/") is "/", Clean drops a trailing
 * slash), so the few functions cp needs are written out here.
 */

/** Go's filepath.Clean for slash paths: "" is ".", no trailing slash but on "/". */
export function goClean(p: string): string {
  if (p === '') return '.'
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(part)
  }
  const s = out.join('/')
  if (rooted) return '/' + s
  return s === '' ? '.' : s
}

/** filepath.Base: the last element, trailing slashes ignored; "" → ".", all slashes → "/". */
export function goBase(p: string): string {
  if (p === '') return '.'
  const trimmed = p.replace(/\/+$/, '')
  if (trimmed === '') return '/'
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}

/** filepath.Dir: everything before the last slash, cleaned. */
export function goDir(p: string): string {
  return goClean(p.slice(0, p.lastIndexOf('/') + 1))
}

/** filepath.Split: dir keeps its trailing slash, dir + file == p. */
export function goSplit(p: string): [string, string] {
  const i = p.lastIndexOf('/')
  return [p.slice(0, i + 1), p.slice(i + 1)]
}

/** filepath.Join: empty elements skipped, the result cleaned ("" when all are empty). */
export function goJoin(...parts: string[]): string {
  const kept = parts.filter((s) => s !== '')
  return kept.length === 0 ? '' : goClean(kept.join('/'))
}

/** filepath.Rel for two absolute, cleaned paths. */
export function goRel(base: string, target: string): string {
  const b = base === '/' ? [] : base.split('/').slice(1)
  const t = target === '/' ? [] : target.split('/').slice(1)
  let i = 0
  while (i < b.length && i < t.length && b[i] === t[i]) i++
  const up = b.slice(i).map(() => '..')
  const rel = [...up, ...t.slice(i)].join('/')
  return rel === '' ? '.' : rel
}

/** filepath.Abs: joined with the working directory and cleaned. */
export function goAbs(p: string, cwd: string = process.cwd()): string {
  return p.startsWith('/') ? goClean(p) : goJoin(cwd, p)
}

/** Go's %q for the names in go-archive's messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s)
}

export const hasTrailingPathSeparator = (p: string): boolean => p.endsWith('/')

/** The last element is ".". */
export const specifiesCurrentDir = (p: string): boolean => goBase(p) === '.'

/** A trailing "/" or "/." says the path must be a directory. */
export const assertsDirectory = (p: string): boolean => hasTrailingPathSeparator(p) || specifiesCurrentDir(p)

/** Puts back the trailing "/." or "/" that cleaning removed from original. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingPathSeparator(out)) out += '/'
    out += '.'
  }
  if (!hasTrailingPathSeparator(out) && hasTrailingPathSeparator(original)) out += '/'
  return out
}

/** The cleaned path's directory and base, keeping a final "." as the base. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = goClean(p)
  if (specifiesCurrentDir(p)) cleaned += '/.'
  return [goDir(cleaned), goBase(cleaned)]
}

/**
 * After a symlink was resolved: the resolved path with the original's
 * trailing "/." or "/", and the name the archive's entries must take when
 * the last element changed (else '').
 */
export function getRebaseName(p: string, resolved: string): [string, string] {
  let out = resolved
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(out)) out += '/.'
  if (hasTrailingPathSeparator(p) && !hasTrailingPathSeparator(out)) out += '/'
  return [out, goBase(p) !== goBase(out) ? goBase(p) : '']
}

/** An absolute local path that keeps the trailing "/" or "/." the user typed. */
export function resolveLocalPath(p: string, cwd?: string): string {
  return preserveTrailingDotOrSeparator(goAbs(p, cwd), p)
}

/**
 * CONTAINER:PATH or a local path. A local path with a colon must start with
 * "/" or "." (`./file:name`); anything else before the first colon is a
 * container, even an empty one (then the path is local, as in docker).
 */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg }
  const i = arg.indexOf(':')
  if (i < 0 || arg.startsWith('.')) return { container: '', path: arg }
  return { container: arg.slice(0, i), path: arg.slice(i + 1) }
}

/**
 * A function that replaces oldBase with newBase at the start of an entry
 * name (whole elements only); from the root ("" or "/"), newBase is put in
 * front of the name with its leading slashes removed.
 */
export function nameRebaser(oldBase: string, newBase: string): (name: string) => string {
  const from = oldBase.replace(/\/+$/, '')
  const to = newBase.replace(/\/+$/, '')
  if (from === '') {
    return (name) => {
      const n = name.replace(/^\/+/, '')
      return to === '' ? n : `${to}/${n}`
    }
  }
  return (name) => {
    if (!name.startsWith(from)) return name
    const rest = name.slice(from.length)
    return rest === '' || rest.startsWith('/') ? to + rest : name
  }
}
