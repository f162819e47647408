import { promises as fsp } from 'node:fs'
import path from 'node:path'

/**
 * The pids in a cgroup, read from the first hierarchy that has it (the pids or
 * memory controller on v1, the unified tree on v2). Sorted, unique.
 */
export async function cgroupProcs(cgroupsPath: string, root = '/sys/fs/cgroup'): Promise<number[]> {
  const rel = cgroupsPath.replace(/^\/+/, '')
  for (const ctl of ['pids', 'memory', 'cpu', 'freezer', 'systemd', '']) {
    const text = await fsp.readFile(path.join(root, ctl, rel, 'cgroup.procs'), 'utf8').catch(() => undefined)
    if (text === undefined) continue
    const pids = text.split('\n').filter(Boolean).map(Number).filter((n) => n > 0)
    return [...new Set(pids)].sort((a, b) => a - b)
  }
  return []
}
