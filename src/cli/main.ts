/** Entry point of the berth CLI: parse, dispatch, and map failures to docker's messages and exit codes. */
import { CommanderError } from 'commander'
import { buildProgram, commanderErrorStatus, ExitError } from './app.js'
import { ClientError, ConnectionError } from '../client/index.js'

const VERSION = '0.1.0'

/** Runs the CLI and resolves to the process exit status. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '-v' || argv[0] === '--version') {
    process.stdout.write(`berth version ${VERSION}\n`)
    return 0
  }
  const program = buildProgram()
  if (argv.length === 0) {
    // docker prints the usage to stderr when given no command.
    process.stderr.write(program.helpInformation())
    return 0
  }
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (e) {
    return reportError(e, argv)
  }
}

function reportError(e: unknown, argv: string[]): number {
  if (e instanceof ExitError) return e.code
  if (e instanceof CommanderError) return commanderErrorStatus(e, argv)
  const err = e as Error & { status?: number; command?: string }
  if (err.name === 'Error' && typeof err.status === 'number' && typeof err.command === 'string') {
    // RunError from run/create: docker prefixes the binary name and points at --help.
    process.stderr.write(`berth: ${err.message}\n\nRun 'berth ${err.command} --help' for more information\n`)
    return err.status
  }
  if (e instanceof ClientError) {
    process.stderr.write(`Error response from daemon: ${e.message}\n`)
    return 1
  }
  if (e instanceof ConnectionError) {
    process.stderr.write(`${e.message}\n`)
    return 1
  }
  process.stderr.write(`${err.message ?? String(e)}\n`)
  return 1
}
