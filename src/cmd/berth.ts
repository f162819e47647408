/** berth: the Docker-compatible CLI. */
import { main } from '../cli/index.js'

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // Leftover handles (stdin, signal listeners, abandoned waits) must not keep the CLI alive.
    setImmediate(() => process.exit(code))
  },
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`)
    process.exit(1)
  },
)
