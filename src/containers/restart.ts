/**
 * docker's restart manager rules (moby restartmanager/restartmanager.go), pure:
 * whether an exit restarts the container and after how long.
 */
import type { RestartPolicy } from './types.js'

const FIRST_DELAY_MS = 100
const MAX_DELAY_MS = 60_000
/** A run this long resets the back-off. */
const STABLE_RUN_MS = 10_000

/** The delay before the next restart: 100 ms, doubling per restart, at most a minute; a run of 10 s or more starts over. */
export function nextBackoff(previousMs: number, ranMs: number): number {
  const prev = ranMs >= STABLE_RUN_MS ? 0 : previousMs
  if (prev === 0) return FIRST_DELAY_MS
  return Math.min(prev * 2, MAX_DELAY_MS)
}

/**
 * Whether the policy restarts a container that exited with `exitCode` after
 * `restartCount` restarts. `manuallyStopped` is docker's HasBeenManuallyStopped
 * (only unless-stopped heeds it); a stop or kill cancelling the restart
 * manager is the caller's business.
 */
export function policyRestarts(p: RestartPolicy, o: { exitCode: number; restartCount: number; manuallyStopped: boolean }): boolean {
  switch (p.name) {
    case 'always':
      return true
    case 'unless-stopped':
      return !o.manuallyStopped
    case 'on-failure':
      return o.exitCode !== 0 && (p.maximumRetryCount === 0 || o.restartCount < p.maximumRetryCount)
    default:
      return false
  }
}
