import { Command, Option } from 'commander'
import { BERTH_VERSION, Daemon, loadConfig, type FlagValues } from '../daemon/index.js'
import { messageOf } from '../errors/index.js'
import { createLogger } from '../lib/index.js'

/** berthd: flags → config → daemon → serve until SIGTERM/SIGINT. */
async function main(argv: string[]): Promise<void> {
  const program = new Command('berthd')
    .description('berth daemon: serves the Docker Engine API and runs containers')
    .version(BERTH_VERSION, '-v, --version', 'print the version and exit')
    .option('--data-root <dir>', 'root of persistent state (default /var/lib/berth)')
    .option('--exec-root <dir>', 'root of runtime state (default /run/berth)')
    .option('-H, --host <address...>', 'socket(s) to listen on (default unix:///run/berth/berth.sock)')
    .option('--config-file <file>', 'daemon configuration file (default /etc/berth/daemon.json)')
    .option('--default-runtime <name>', 'OCI runtime for containers (default runc)')
    .option('--pidfile <file>', 'path of the pid file (default /run/berth/berthd.pid)')
    .addOption(new Option('-l, --log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']))
    .option('-D, --debug', 'enable debug logging')
    .addHelpText('after', '\nEvery flag has a daemon.json key of the same name; a key may not be given both ways.')
    .showHelpAfterError()
  program.parse(argv)
  const o = program.opts<{ dataRoot?: string; execRoot?: string; host?: string[]; configFile?: string; defaultRuntime?: string; pidfile?: string; logLevel?: string; debug?: boolean }>()
  const flags: FlagValues = {
    dataRoot: o.dataRoot,
    execRoot: o.execRoot,
    hosts: o.host,
    defaultRuntime: o.defaultRuntime,
    pidfile: o.pidfile,
    logLevel: o.logLevel,
    debug: o.debug,
    ...(o.configFile ? { configFile: o.configFile } : {}),
  }
  const cfg = await loadConfig(flags)
  // A custom exec root moves the default socket and pid file with it.
  if (o.execRoot && !o.host) cfg.hosts = [`unix://${o.execRoot}/berth.sock`]
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

main(process.argv).catch((err: unknown) => {
  console.error(`berthd: ${messageOf(err)}`)
  process.exit(1)
})
