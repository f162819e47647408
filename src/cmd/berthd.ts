import { Command, Option } from 'commander'
import { BERTH_VERSION, Daemon, defaults, dropMallocPreload, loadConfig, type FlagValues } from '../daemon/index.js'
import { messageOf } from '../errors/index.js'
import { createLogger } from '../lib/index.js'

/** berthd: flags → config → daemon → serve until SIGTERM/SIGINT. */
async function main(argv: string[]): Promise<void> {
  const program = new Command('berthd')
    .description('berth daemon: serves the Docker Engine API and runs containers')
    .version(BERTH_VERSION, '-v, --version', 'print the version and exit')
    .option('--data-root <dir>', 'root of persistent state (default /var/lib/berth)')
    .option('--exec-root <dir>', 'root of runtime state (default /run/berth)')
    .option('-H, --host <address...>', 'socket(s) to listen on (default unix:///run/berth/berth.sock); tcp://host:port needs --tlsverify or an explicit --tls=false')
    .option('-G, --group <group>', 'group for the unix socket(s) (default berth; "" for root)')
    .option('--tls [bool]', 'use TLS on tcp hosts; implied by --tlsverify', bool)
    .option('--tlsverify [bool]', 'use TLS and accept only clients with a certificate signed by --tlscacert', bool)
    .option('--tlscacert <file>', 'trust client certificates signed only by this CA (default ~/.docker/ca.pem)')
    .option('--tlscert <file>', 'path to the TLS certificate file (default ~/.docker/cert.pem)')
    .option('--tlskey <file>', 'path to the TLS key file (default ~/.docker/key.pem)')
    .option('--config-file <file>', 'daemon configuration file (default /etc/berth/daemon.json)')
    .option('--default-runtime <name>', 'OCI runtime for containers (default runc)')
    .option('--pidfile <file>', 'path of the pid file (default /run/berth/berthd.pid)')
    .addOption(new Option('-l, --log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']))
    .option('-D, --debug', 'enable debug logging')
    .option('-b, --bridge <name>', 'Linux bridge of the default network (default berth0)')
    .option('--bip <cidr>', 'address and prefix of the default bridge, e.g. 172.30.0.1/16')
    .option('--fixed-cidr <cidr>', 'addresses of the default bridge handed to containers')
    .option('--mtu <bytes>', 'MTU of the default bridge', (v) => Number(v))
    .option('--icc <bool>', 'traffic between containers on the default bridge (default true)', bool)
    .option('--ip-masq <bool>', 'masquerade traffic leaving the default bridge (default true)', bool)
    .option('--iptables <bool>', 'let berthd manage iptables rules (default true)', bool)
    .option('--ip-forward <bool>', 'turn on IPv4 forwarding (default true)', bool)
    .option('--default-address-pool <pool...>', 'address pool for new networks, base=CIDR,size=N (repeatable)')
    .option('--cgroup-parent <path>', 'parent cgroup of containers (default /berth)')
    .option('--exec-opt <opt>', 'runtime execution option, e.g. native.cgroupdriver=cgroupfs (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--userns-remap <user/group>', 'user namespaces: default (the berthremap user), user[:group] or uid[:gid]')
    .option('--seccomp-profile <path>', 'default seccomp profile: builtin, unconfined or a JSON file (default builtin)')
    .option('--no-new-privileges', 'set no-new-privileges for every new container')
    .addHelpText('after', '\nEvery flag has a daemon.json key of the same name; a key may not be given both ways.')
    .showHelpAfterError()
  program.parse(argv)
  const o = program.opts<{
    dataRoot?: string; execRoot?: string; host?: string[]; configFile?: string; defaultRuntime?: string; pidfile?: string; logLevel?: string; debug?: boolean
    bridge?: string; bip?: string; fixedCidr?: string; mtu?: number; icc?: boolean; ipMasq?: boolean; iptables?: boolean; ipForward?: boolean; defaultAddressPool?: string[]
    cgroupParent?: string; execOpt?: string[]; usernsRemap?: string; seccompProfile?: string; newPrivileges?: boolean
    group?: string; tls?: boolean; tlsverify?: boolean; tlscacert?: string; tlscert?: string; tlskey?: string
  }>()
  const network: Record<string, unknown> = {
    bridge: o.bridge, bip: o.bip, 'fixed-cidr': o.fixedCidr, mtu: o.mtu, icc: o.icc, 'ip-masq': o.ipMasq, iptables: o.iptables, 'ip-forward': o.ipForward,
    'default-address-pools': o.defaultAddressPool?.map(poolFlag),
  }
  const flags: FlagValues = {
    dataRoot: o.dataRoot,
    execRoot: o.execRoot,
    hosts: o.host,
    defaultRuntime: o.defaultRuntime,
    pidfile: o.pidfile,
    logLevel: o.logLevel,
    debug: o.debug,
    cgroupParent: o.cgroupParent,
    execOpts: o.execOpt,
    usernsRemap: o.usernsRemap,
    seccompProfile: o.seccompProfile,
    // commander names a --no-x flag's value x: false when given, true by default.
    noNewPrivileges: o.newPrivileges === false ? true : undefined,
    network: Object.fromEntries(Object.entries(network).filter(([, v]) => v !== undefined)),
    group: o.group,
    tls: { tls: o.tls, tlsverify: o.tlsverify, tlscacert: o.tlscacert, tlscert: o.tlscert, tlskey: o.tlskey },
    // As dockerd: the default certificates live in $DOCKER_CERT_PATH, else ~/.docker.
    ...(process.env.DOCKER_CERT_PATH ? { certPath: process.env.DOCKER_CERT_PATH } : {}),
    ...(o.configFile ? { configFile: o.configFile } : {}),
  }
  const cfg = await loadConfig(flags)
  // A custom exec root moves the default socket and pid file with it (not hosts daemon.json names).
  if (o.execRoot && !o.host && cfg.hosts.join() === defaults().hosts.join()) cfg.hosts = [`unix://${o.execRoot}/berth.sock`]
  if (o.execRoot && !o.pidfile) cfg.pidfile = `${o.execRoot}/berthd.pid`
  const log = createLogger({ level: cfg.logLevel })
  const daemon = await Daemon.start(cfg, log)
  let stopping = false
  const stop = (sig: string) => {
    if (stopping) return
    stopping = true
    log.info('signal received', { signal: sig })
    void daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGPIPE', () => {})
  process.on('uncaughtException', (err) => log.error('uncaught exception', { err }))
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err }))
}

/** dockerd's boolean flags take a value: --icc=false. */
function bool(v: string): boolean {
  if (/^(1|t|true)$/i.test(v)) return true
  if (/^(0|f|false)$/i.test(v)) return false
  throw new Error(`invalid boolean value "${v}"`)
}

/** `base=10.10.0.0/16,size=24`, as dockerd's --default-address-pool. */
function poolFlag(v: string): { base: string; size: number } {
  const kv = Object.fromEntries(v.split(',').map((p) => p.split('=') as [string, string]))
  if (!kv.base || !kv.size || !/^\d+$/.test(kv.size)) throw new Error(`invalid --default-address-pool ${v}: want base=<CIDR>,size=<prefix length>`)
  return { base: kv.base, size: Number(kv.size) }
}

dropMallocPreload(process.env)
main(process.argv).catch((err: unknown) => {
  console.error(`berthd: ${messageOf(err)}`)
  process.exit(1)
})
