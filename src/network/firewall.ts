/**
 * berth's firewall for bridge networks, in iptables: isolation between
 * networks, masquerade, published ports (DNAT, loopback included) and sealed
 * --internal networks. iptables rather than a table of berth's own in nft,
 * because an accept in one nft table cannot override a drop in another:
 * dockerd leaves `ip filter FORWARD` with policy DROP, and br_netfilter sends
 * even traffic within a bridge through it, so the accept path has to be in
 * FORWARD itself, through one jump to berth's chain.
 *
 * The rules are rendered by firewall-rules.ts; this module reads what is
 * there (iptables-save), applies the difference (iptables-restore --noflush)
 * and sets route_localnet, one call at a time.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { internal, unavailable } from '../errors/index.js'
import { run, type Logger, type RunOptions, type RunResult } from '../lib/index.js'
import {
  DEFAULT_PREFIX,
  familyActive,
  jumpChanges,
  localnetBridges,
  renderRules,
  renderTeardown,
  validatePrefix,
  validateState,
  type Family,
  type FirewallState,
} from './firewall-rules.js'

export {
  chainNames,
  desiredTables,
  isOurChain,
  jumpChanges,
  parseSave,
  renderRules,
  renderTeardown,
  type BridgeRules,
  type Family,
  type FirewallState,
  type PortRule,
} from './firewall-rules.js'

/** How host tools are run; lib's run unless a test hands in a fake. */
export type Exec = (cmd: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>

export interface FirewallOptions {
  /** Chain name prefix (`<prefix>-FORWARD`, ...); default BERTH. Tests use their own. */
  prefix?: string
  logger: Logger
  exec?: Exec
  /** Where sysctls are written; default /proc/sys. */
  procSys?: string
}

const tools: Record<Family, { save: string; restore: string }> = {
  4: { save: 'iptables-save', restore: 'iptables-restore' },
  6: { save: 'ip6tables-save', restore: 'ip6tables-restore' },
}

const INSTALL = 'install it with: apt-get install -y iptables'

const isMissingTool = (err: unknown) => err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT'

export class Firewall {
  readonly prefix: string
  private readonly log: Logger
  private readonly exec: Exec
  private readonly procSys: string
  private queue: Promise<unknown> = Promise.resolve()
  private warnedNo6 = false

  constructor(o: FirewallOptions) {
    this.prefix = o.prefix ?? DEFAULT_PREFIX
    validatePrefix(this.prefix)
    this.log = o.logger.child({ module: 'firewall' })
    this.exec = o.exec ?? run
    this.procSys = o.procSys ?? '/proc/sys'
  }

  /** Whether iptables can be used here, and if not, why and what fixes it. */
  static async detect(exec: Exec = run): Promise<{ ok: true } | { ok: false; reason: string }> {
    for (const [cmd, args] of [
      ['iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING']],
      ['iptables', ['-w', '-t', 'filter', '-S', 'FORWARD']],
      ['iptables-restore', ['--version']],
    ] as const) {
      try {
        const r = await exec(cmd, args, { check: false })
        if (r.code !== 0) {
          const why = r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`
          return { ok: false, reason: `${cmd} ${args.join(' ')} failed: ${why} (the kernel needs netfilter NAT support: nf_tables or ip_tables, and nf_nat)` }
        }
      } catch (err) {
        if (isMissingTool(err)) return { ok: false, reason: `${cmd} is not installed; ${INSTALL}` }
        return { ok: false, reason: `${cmd}: ${err instanceof Error ? err.message : String(err)}` }
      }
    }
    return { ok: true }
  }

  /**
   * Make berth's chains say exactly `state` and each jump to them exist once.
   * Safe to call at any time with the whole state: after a crash it converges
   * whatever was left, and calling it twice changes nothing the second time.
   */
  sync(state: FirewallState): Promise<void> {
    return this.serial(async () => {
      validateState(state)
      for (const br of localnetBridges(state)) await this.enableLocalnet(br)
      await this.syncFamily(state, 4)
      await this.syncFamily(state, 6)
    })
  }

  /** Remove every jump to berth's chains and the chains themselves, both families; without iptables there is nothing to remove. */
  teardown(): Promise<void> {
    return this.serial(async () => {
      await this.apply(4, (saved) => renderTeardown(this.prefix, saved), true)
      await this.apply(6, (saved) => renderTeardown(this.prefix, saved), true).catch((err: unknown) => {
        // A host with IPv6 disabled has no ip6tables tables, so nothing of ours either.
        this.log.warn('cannot read IPv6 firewall rules to remove them', { err })
      })
    })
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn)
    this.queue = next.catch(() => {})
    return next
  }

  private async syncFamily(state: FirewallState, family: Family): Promise<void> {
    const active = familyActive(state, family)
    const render = active
      ? (saved: string) => renderRules(state, this.prefix, family, saved)
      : (saved: string) => renderTeardown(this.prefix, saved)
    if (family === 6 && !active) {
      // Only clean-up left to do; a host with IPv6 disabled must not fail IPv4 networking over it.
      await this.apply(6, render, true).catch((err: unknown) => this.log.debug('skipping IPv6 firewall clean-up', { err }))
      return
    }
    const applied = await this.apply(family, render, family === 6)
    if (!applied && family === 6 && !this.warnedNo6) {
      this.warnedNo6 = true
      this.log.warn('ip6tables is not installed: IPv6 traffic of bridge networks is not filtered, masqueraded or published', { fix: INSTALL })
    }
  }

  /**
   * Read the family's rules, render, restore. A restore can lose a race with
   * another writer (a rule it deletes is already gone), so it is re-read and
   * tried once more before failing. Returns false when the tools are missing
   * and `optional` says that is fine.
   */
  private async apply(family: Family, render: (saved: string) => string, optional = false): Promise<boolean> {
    const { save, restore } = tools[family]
    for (let attempt = 1; ; attempt++) {
      let saved: RunResult
      try {
        saved = await this.exec(save, [], { check: false })
      } catch (err) {
        if (isMissingTool(err)) {
          if (optional) return false
          throw unavailable(`${save} is not installed; ${INSTALL}`, err)
        }
        throw err
      }
      if (saved.code !== 0) throw internal(`${save} failed: ${saved.stderr.trim() || `exit ${saved.code}`}`)
      const text = render(saved.stdout)
      if (!text) return true
      const changes = jumpChanges(text)
      if (changes.length) this.log.info('firewall jumps changed', { family, changes })
      const r = await this.exec(restore, ['-w', '--noflush'], { input: text, check: false })
      if (r.code === 0) {
        this.log.debug('firewall synced', { family })
        return true
      }
      const msg = restoreError(restore, r, text)
      if (attempt >= 2) throw internal(msg)
      this.log.warn('firewall restore failed, retrying', { family, error: msg })
    }
  }

  private async enableLocalnet(bridge: string): Promise<void> {
    const file = path.join(this.procSys, 'net/ipv4/conf', bridge, 'route_localnet')
    try {
      await writeFile(file, '1')
    } catch (err) {
      // A bridge being torn down while a sync runs loses only its loopback path.
      this.log.warn('cannot enable route_localnet: ports published on 127.0.0.1 will not reach this bridge', { bridge, err })
    }
  }
}

/** The restore's stderr, with the input line it names, so the message points at the rule. */
function restoreError(cmd: string, r: RunResult, input: string): string {
  const err = r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`
  const n = Number(/line:? (\d+)/i.exec(err)?.[1])
  const line = n > 0 ? input.split('\n')[n - 1] : undefined
  return `${cmd} failed: ${err.replace(/:\s*\n\s*/g, ': ').replace(/\s*\n\s*/g, '; ')}${line ? ` (input line ${n}: ${line})` : ''}`
}
