import { invalidArgument } from '../errors/index.js'

/** Linux signal numbers by name, for docker's `--signal`/`--stop-signal` forms. */
const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
}

/** `SIGTERM`, `TERM`, `15`, `RTMIN+3` → the number; unknown → 400 as docker. */
export function signalNumber(sig: string): number {
  const s = sig.trim().toUpperCase()
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    if (n < 1 || n > 64) throw invalidArgument(`invalid signal: ${sig}`)
    return n
  }
  const name = s.replace(/^SIG/, '')
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name)
  if (rt) {
    const off = Number(rt[1] ?? 0)
    const n = name.startsWith('RTMIN') ? 34 + off : 64 - off
    if (n < 34 || n > 64) throw invalidArgument(`invalid signal: ${sig}`)
    return n
  }
  const n = SIGNALS[name]
  if (n === undefined) throw invalidArgument(`invalid signal: ${sig}`)
  return n
}

/** Canonical `SIGxxx` name (or the number) for the runtime's kill command. */
export function signalName(sig: string): string {
  const n = signalNumber(sig)
  const name = Object.entries(SIGNALS).find(([, v]) => v === n)?.[0]
  return name ? `SIG${name}` : String(n)
}
