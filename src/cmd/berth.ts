/** berth: the Docker-compatible CLI. */
import { main } from '../cli/index.js'

// A reader that went away (`berth … | head`): stop quietly, as a CLI killed by SIGPIPE does (status 141).
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141)
    throw err
  })
}

/**
 * `berth registry …` runs the registry server or its GC in this process, with
 * no daemon; it is loaded only when asked for, so other commands start as fast.
 */
async function run(argv: string[]): Promise<number> {
  if (argv[0] !== 'registry') return main(argv)
  const { runRegistryCommand } = await import('../registry/index.js')
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
    // Run by berthd (daemon.json registry-service): the end of stdin means berthd is gone.
    if (process.env.BERTH_REGISTRY_SUPERVISED === '1') {
      process.stdin.once('end', resolve)
      process.stdin.once('close', resolve)
      process.stdin.resume()
    }
  })
  return runRegistryCommand(argv.slice(1), { stdout: process.stdout, stderr: process.stderr, stopped })
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // Leftover handles (stdin, signal listeners, abandoned waits) must not keep the CLI alive; output
    // still buffered for a pipe is written first (exit would cut it short).
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
  },
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`)
    process.exit(1)
  },
)
