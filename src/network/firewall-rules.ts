/**
 * The rules berth keeps in iptables for its bridge networks, as pure text:
 * what the chains must hold for a given state, and the iptables-restore input
 * that turns whatever iptables-save shows now into exactly that. Hand-written
 * because the rule set is berth's own; no library renders iptables-restore
 * input, and parsing iptables-save is a few lines.
 *
 * Everything berth owns sits in chains named `<prefix>-*`, reached by one jump
 * from each built-in chain it needs. Because chains are declared in the restore
 * input (which flushes and refills them) and jumps are reconciled against what
 * is there, the same input applied to any leftover state converges.
 */
import net from 'node:net'
import { invalidArgument } from '../errors/index.js'

export type Family = 4 | 6

/** One Linux bridge and what the firewall allows on it. */
export interface BridgeRules {
  bridge: string
  /** CIDRs on the bridge, canonical. */
  subnets4: string[]
  subnets6: string[]
  /** Containers on the bridge may talk to each other (com.docker.network.bridge.enable_icc). */
  icc: boolean
  /** Traffic leaving the host from the bridge takes the host's address (…enable_ip_masquerade). */
  masquerade: boolean
  /** --internal: nothing crosses between the bridge and any other interface. */
  internal: boolean
}

/** A published port, resolved: one host address and port to one container address and port. */
export interface PortRule {
  proto: 'tcp' | 'udp' | 'sctp'
  /** '0.0.0.0' or '::' for every host address (of the container address's family), else one address. */
  hostIp: string
  hostPort: number
  containerIp: string
  containerPort: number
  /** The bridge the container address lives on; must be one of the state's bridges. */
  bridge: string
}

export interface FirewallState {
  bridges: BridgeRules[]
  ports: PortRule[]
}

export type Table = 'raw' | 'filter' | 'nat'

interface Jump {
  /** Built-in chain the jump sits in. */
  from: string
  /** The rule after `-A <from> `, exactly as iptables-save prints it (compared as text). */
  spec: string
}

interface TableRules {
  table: Table
  /** Our chains, in declaration order, with their rules (each after `-A <chain> `). */
  chains: Map<string, string[]>
  jumps: Jump[]
}

export const DEFAULT_PREFIX = 'BERTH'

// At most 16 so `<prefix>-POSTROUTING` fits iptables' 28-character chain names.
const prefixRe = /^[A-Za-z][A-Za-z0-9_-]{0,15}$/
// IFNAMSIZ is 16 with the NUL; '+' is iptables' wildcard and '!' its negation, so neither is allowed.
const ifnameRe = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/

export function chainNames(prefix: string) {
  return {
    forward: `${prefix}-FORWARD`,
    dnat: `${prefix}-DNAT`,
    postrouting: `${prefix}-POSTROUTING`,
    /** raw PREROUTING: drops loopback-addressed packets arriving on a bridge (route_localnet is on). */
    prerouting: `${prefix}-PREROUTING`,
  }
}

/** Whether the family has anything to program: IPv4 whenever there is a bridge; IPv6 when something has an IPv6 address. */
export function familyActive(state: FirewallState, family: Family): boolean {
  if (family === 4) return state.bridges.length > 0
  return state.bridges.some((b) => b.subnets6.length > 0) || state.ports.some((p) => net.isIP(p.containerIp) === 6)
}

/** Bridges whose published IPv4 ports need route_localnet=1, so 127.0.0.1 can be DNATed onto them. */
export function localnetBridges(state: FirewallState): string[] {
  const internal = new Set(state.bridges.filter((b) => b.internal).map((b) => b.bridge))
  const out = new Set<string>()
  for (const p of state.ports) if (net.isIP(p.containerIp) === 4 && !internal.has(p.bridge)) out.add(p.bridge)
  return [...out]
}

export function validatePrefix(prefix: string): void {
  if (!prefixRe.test(prefix)) {
    throw invalidArgument(`invalid firewall chain prefix ${JSON.stringify(prefix)}: a letter, then letters, digits, _ or -, at most 16`)
  }
}

/** Throws invalid-argument for anything that would not render to safe, valid rules. */
export function validateState(state: FirewallState): void {
  const seen = new Set<string>()
  for (const b of state.bridges) {
    if (!ifnameRe.test(b.bridge)) throw invalidArgument(`invalid bridge name ${JSON.stringify(b.bridge)}`)
    if (seen.has(b.bridge)) throw invalidArgument(`bridge ${b.bridge} is listed twice`)
    seen.add(b.bridge)
    for (const s of b.subnets4) checkCidr(s, 4, b.bridge)
    for (const s of b.subnets6) checkCidr(s, 6, b.bridge)
  }
  for (const p of state.ports) {
    const what = `port ${p.hostIp}:${p.hostPort}->${p.containerIp}:${p.containerPort}/${p.proto}`
    if (p.proto !== 'tcp' && p.proto !== 'udp' && p.proto !== 'sctp') throw invalidArgument(`${what}: unknown protocol`)
    if (!validPort(p.hostPort) || !validPort(p.containerPort)) throw invalidArgument(`${what}: port out of range`)
    const fam = net.isIP(p.containerIp)
    if (fam === 0) throw invalidArgument(`${what}: invalid container address`)
    if (net.isIP(p.hostIp) === 0) throw invalidArgument(`${what}: invalid host address`)
    if (!isWildcard(p.hostIp) && net.isIP(p.hostIp) !== fam) {
      throw invalidArgument(`${what}: host and container addresses are of different IP versions`)
    }
    if (!seen.has(p.bridge)) throw invalidArgument(`${what}: bridge ${JSON.stringify(p.bridge)} is not in the firewall state`)
  }
}

function checkCidr(cidr: string, family: Family, bridge: string): void {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr)
  if (!m || net.isIP(m[1]) !== family || Number(m[2]) > (family === 4 ? 32 : 128)) {
    throw invalidArgument(`bridge ${bridge}: invalid IPv${family} subnet ${JSON.stringify(cidr)}`)
  }
}

const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535
const isWildcard = (ip: string) => ip === '0.0.0.0' || ip === '::'
const hostMask = (ip: string) => `${ip}/${net.isIP(ip) === 4 ? 32 : 128}`

/**
 * The tables, chains and rules for one family. Rule text is what follows
 * `-A <chain> `; jump specs are in iptables-save's canonical form, since
 * reconciling compares them as text.
 */
export function desiredTables(state: FirewallState, prefix: string, family: Family): TableRules[] {
  validatePrefix(prefix)
  validateState(state)
  const c = chainNames(prefix)
  const bridges = state.bridges
  const open = bridges.filter((b) => !b.internal)
  const openNames = new Set(open.map((b) => b.bridge))
  // Ports on internal networks are not published: nothing may cross into them.
  const ports = state.ports.filter((p) => net.isIP(p.containerIp) === family && openNames.has(p.bridge))
  const subnets = (b: BridgeRules) => (family === 4 ? b.subnets4 : b.subnets6)
  const proto = (p: PortRule) => `-p ${p.proto} -m ${p.proto}`

  // filter: the order is the isolation. Internal bridges are sealed first;
  // then replies and published ports may enter a bridge; traffic within a
  // bridge follows icc; anything else entering a berth bridge (from another
  // berth bridge or from outside) is dropped before the rule that lets a
  // bridge's own traffic leave, so "-i br1 -o br2" never reaches br1's accept.
  const fwd: string[] = []
  for (const b of bridges.filter((x) => x.internal)) {
    fwd.push(`-i ${b.bridge} ! -o ${b.bridge} -j DROP`, `! -i ${b.bridge} -o ${b.bridge} -j DROP`)
  }
  for (const b of open) fwd.push(`-o ${b.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)
  for (const p of ports) {
    fwd.push(
      `-d ${hostMask(p.containerIp)} ! -i ${p.bridge} -o ${p.bridge} ${proto(p)} --dport ${p.containerPort} -m conntrack --ctstate DNAT -j ACCEPT`,
    )
  }
  for (const b of bridges) fwd.push(`-i ${b.bridge} -o ${b.bridge} -j ${b.icc ? 'ACCEPT' : 'DROP'}`)
  for (const b of open) fwd.push(`-o ${b.bridge} -j DROP`)
  for (const b of open) fwd.push(`-i ${b.bridge} -j ACCEPT`)

  const dnat: string[] = []
  for (const p of ports) {
    const dst = isWildcard(p.hostIp) ? '' : `-d ${hostMask(p.hostIp)} `
    const to = family === 4 ? `${p.containerIp}:${p.containerPort}` : `[${p.containerIp}]:${p.containerPort}`
    dnat.push(`${dst}${proto(p)} --dport ${p.hostPort} -j DNAT --to-destination ${to}`)
  }
  const post: string[] = []
  for (const b of open) {
    if (b.masquerade) for (const s of subnets(b)) post.push(`-s ${s} ! -o ${b.bridge} -j MASQUERADE`)
  }
  const portBridges = new Set(ports.map((p) => p.bridge))
  for (const b of open.filter((x) => portBridges.has(x.bridge))) {
    // Host (loopback included) to a published port: the container must answer
    // the bridge, not 127.0.0.1; and a container reaching a published port on
    // its own bridge (hairpin) must get the reply back through the host.
    post.push(`-o ${b.bridge} -m addrtype --src-type LOCAL -m conntrack --ctstate DNAT -j MASQUERADE`)
    for (const s of subnets(b)) post.push(`-s ${s} -o ${b.bridge} -m conntrack --ctstate DNAT -j MASQUERADE`)
  }

  const tables: TableRules[] = []
  if (family === 4) {
    // route_localnet on a bridge would let a container address the host's
    // 127.0.0.0/8 services directly; only DNATed replies may use it.
    const raw = bridges.map((b) => `-d 127.0.0.0/8 -i ${b.bridge} -j DROP`)
    tables.push({ table: 'raw', chains: new Map([[c.prerouting, raw]]), jumps: [{ from: 'PREROUTING', spec: `-j ${c.prerouting}` }] })
  }
  tables.push({ table: 'filter', chains: new Map([[c.forward, dedupe(fwd)]]), jumps: [{ from: 'FORWARD', spec: `-j ${c.forward}` }] })
  tables.push({
    table: 'nat',
    chains: new Map([
      [c.dnat, dedupe(dnat)],
      [c.postrouting, dedupe(post)],
    ]),
    jumps: [
      { from: 'PREROUTING', spec: `-m addrtype --dst-type LOCAL -j ${c.dnat}` },
      // IPv4 DNATs loopback too (route_localnet); IPv6 cannot route ::1 off the host.
      { from: 'OUTPUT', spec: `${family === 6 ? '! -d ::1/128 ' : ''}-m addrtype --dst-type LOCAL -j ${c.dnat}` },
      { from: 'POSTROUTING', spec: `-j ${c.postrouting}` },
    ],
  })
  return tables
}

function dedupe(rules: string[]): string[] {
  return [...new Set(rules)]
}

/** One table of iptables-save output. */
export interface SavedTable {
  chains: string[]
  /** `-A` lines, verbatim, with the chain they append to. */
  rules: Array<{ chain: string; line: string }>
}

/** Parse iptables-save output into tables; comments and counters are ignored. */
export function parseSave(text: string): Map<string, SavedTable> {
  const out = new Map<string, SavedTable>()
  let cur: SavedTable | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line.startsWith('*')) {
      cur = { chains: [], rules: [] }
      out.set(line.slice(1), cur)
    } else if (!cur) continue
    else if (line.startsWith(':')) cur.chains.push(line.slice(1).split(/\s+/)[0])
    else if (line.startsWith('-A ')) cur.rules.push({ chain: line.split(/\s+/)[1], line })
  }
  return out
}

const targetOf = (line: string) => /\s-[jg]\s+(\S+)/.exec(line)?.[1]

/**
 * iptables-restore --noflush input that makes iptables hold exactly `state`
 * for this family, given the family's iptables-save output now. Declaring a
 * chain flushes it, so the chains are rewritten whole in one transaction per
 * table; each jump is kept if present once, inserted at the top if missing,
 * and extra or outdated jumps are deleted, as are our chains no longer used.
 */
export function renderRules(state: FirewallState, prefix: string, family: Family, saved = ''): string {
  return render(desiredTables(state, prefix, family), prefix, parseSave(saved))
}

/** iptables-restore --noflush input that removes every chain of ours (isOurChain) and each jump to one; '' when there are none. */
export function renderTeardown(prefix: string, saved: string): string {
  validatePrefix(prefix)
  return render([], prefix, parseSave(saved))
}

/**
 * Whether a chain is one of ours: `<prefix>-` and a suffix without '-'. The
 * suffix rule keeps a berthd with prefix BERTH off the chains of one with
 * prefix BERTH-BR1 (BERTH-BR1-FORWARD), and the reverse holds by the prefix.
 */
export function isOurChain(prefix: string, name: string | undefined): boolean {
  return name !== undefined && name.startsWith(`${prefix}-`) && /^[A-Za-z0-9_]+$/.test(name.slice(prefix.length + 1))
}

function render(want: TableRules[], prefix: string, saved: Map<string, SavedTable>): string {
  const ours = (name: string | undefined) => isOurChain(prefix, name)
  const tables = [...want.map((t) => t.table as string)]
  for (const [name, t] of saved) {
    if (!tables.includes(name) && (t.chains.some(ours) || t.rules.some((r) => ours(targetOf(r.line))))) tables.push(name)
  }
  const out: string[] = []
  for (const table of tables) {
    const w = want.find((t) => t.table === table)
    const s = saved.get(table) ?? { chains: [], rules: [] }
    const wanted = w ? [...w.chains.keys()] : []
    const stale = s.chains.filter((ch) => ours(ch) && !wanted.includes(ch))
    const body: string[] = []
    for (const ch of [...wanted, ...stale]) body.push(`:${ch} - [0:0]`)
    // A jump kept in place keeps its position, so docker's or an admin's rules
    // around it are not reshuffled on every sync.
    const missing = new Map((w?.jumps ?? []).map((j) => [`-A ${j.from} ${j.spec}`, j]))
    for (const r of s.rules) {
      if (ours(r.chain) || !ours(targetOf(r.line))) continue
      if (missing.delete(r.line)) continue
      body.push(`-D ${r.line.slice(3)}`)
    }
    for (const ch of stale) body.push(`-X ${ch}`)
    for (const j of missing.values()) body.push(`-I ${j.from} 1 ${j.spec}`)
    for (const [ch, rules] of w?.chains ?? []) for (const r of rules) body.push(`-A ${ch} ${r}`)
    if (!w && body.length === 0) continue
    out.push(`*${table}`, ...body, 'COMMIT')
  }
  return out.length ? out.join('\n') + '\n' : ''
}

/** The jump fix-ups (-D/-I/-X lines) a render would make: empty when the jumps already match. For tests and logs. */
export function jumpChanges(restoreText: string): string[] {
  return restoreText.split('\n').filter((l) => /^-(D|I|X) /.test(l))
}
