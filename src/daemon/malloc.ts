/**
 * bin/berthd preloads jemalloc for berthd alone (see there): the processes it
 * starts (conmon, runc, tar, iptables) keep the system's malloc.
 */
export function dropMallocPreload(env: NodeJS.ProcessEnv): void {
  const lib = env.BERTH_JEMALLOC
  if (!lib) return
  const rest = (env.LD_PRELOAD ?? '').split(':').filter((p) => p !== '' && p !== lib)
  if (rest.length) env.LD_PRELOAD = rest.join(':')
  else delete env.LD_PRELOAD
  if (env.BERTH_MALLOC_CONF) {
    delete env.MALLOC_CONF
    delete env.BERTH_MALLOC_CONF
  }
  delete env.BERTH_JEMALLOC
}
