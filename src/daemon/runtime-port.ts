import type { AttachStream, ExecHandle, RuntimePort } from '../containers/index.js'
import type { ConmonRuntime, OciProcess, OciSpec } from '../runtime/index.js'
import { StartError } from '../runtime/index.js'
import { updateResources } from './specs.js'

/** A stream that is already over: for a detached exec nobody reads. */
const endedStream = (): AttachStream => ({
  onData: () => {},
  onEnd: (cb) => queueMicrotask(cb),
  writeStdin: () => {},
  closeStdin: () => {},
  close: () => {},
})

/**
 * Adapts the conmon runtime to what the container service asks of a runtime.
 * Specs pass through opaque: the daemon's spec builder made them.
 */
export function runtimePort(rt: ConmonRuntime, pids: (id: string) => Promise<number[]>): RuntimePort {
  return {
    create: (o) =>
      rt.create({
        id: o.id,
        spec: o.spec as OciSpec,
        runtime: o.runtime,
        tty: o.tty,
        openStdin: o.openStdin,
        stdinOnce: o.stdinOnce,
        logPath: o.logPath,
        ...(o.logMaxSize ? { logMaxSize: o.logMaxSize } : {}),
        ...(o.consoleSize ? { consoleSize: o.consoleSize } : {}),
      }),
    start: (id) => rt.start(id),
    kill: (id, signal) => rt.kill(id, signal),
    delete: (id, o) => rt.delete(id, o),
    attach: (id, o) => rt.attach(id, o),
    resize: (id, size) => rt.resize(id, size),
    async exec(id, o): Promise<ExecHandle> {
      const s = await rt.exec(id, {
        execId: o.execId,
        process: o.process as OciProcess,
        tty: o.tty,
        stdin: o.stdin,
        ...(o.consoleSize ? { consoleSize: o.consoleSize } : {}),
        ...(o.attach === false ? { attach: false } : {}),
      })
      // The exit code goes with the words: the exec records it (containers/exec.ts).
      if (s.error) throw new StartError(s.error, await s.exit)
      return {
        attach: s.stream ?? endedStream(),
        get pid() {
          return s.pid
        },
        exit: s.exit,
        resize: (size) => s.resize(size),
      }
    },
    onExit: (cb) => {
      rt.onExit(cb)
    },
    onOom: (cb) => {
      rt.onOom(cb)
    },
    restore: async () =>
      (await rt.restore()).map((r) => ({ id: r.id, pid: r.pid, status: r.status, ...(r.exit ? { exit: r.exit } : {}) })),
    pids,
    pause: (id) => rt.pause(id),
    resume: (id) => rt.unpause(id),
    update: (id, resources) => rt.update(id, updateResources(resources)),
  }
}

