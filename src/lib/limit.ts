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
