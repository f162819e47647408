/**
 * A counting limiter: at most `n` tasks run at once; `onQueue` tells the
 * caller a task had to wait (pull and push report it as docker's "Waiting").
 */
export function limiter(n: number): <T>(fn: () => Promise<T>, onQueue: () => void) => Promise<T> {
  let active = 0
  const queue: Array<() => void> = []
  return async <T>(fn: () => Promise<T>, onQueue: () => void): Promise<T> => {
    if (active >= n) {
      onQueue()
      await new Promise<void>((r) => queue.push(r))
    } else active++
    try {
      return await fn()
    } finally {
      const next = queue.shift()
      if (next) next()
      else active--
    }
  }
}

/**
 * One run at a time; a second caller is refused at once with onBusy()'s
 * error rather than queued (docker's prune guard: "a prune operation is
 * already running").
 */
export function exclusive(onBusy: () => Error): <T>(fn: () => Promise<T>) => Promise<T> {
  let busy = false
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (busy) throw onBusy()
    busy = true
    try {
      return await fn()
    } finally {
      busy = false
    }
  }
}
