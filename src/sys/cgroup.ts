/**
 * Which cgroup layout the host has. runc copes with all three; crun 1.8
 * refuses "hybrid" (v1 controllers plus a cgroup2 `unified` mount that still
 * holds a controller), so the runtime layer needs to know.
 */
import { promises as fsp } from 'node:fs'

export type CgroupMode = 'v1' | 'hybrid' | 'v2'

const CGROUP2_SUPER_MAGIC = 0x63677270

export interface CgroupInfo {
  mode: CgroupMode
  /** The cgroup2 mount a v1 host also has, if any (hybrid or v1 with an empty unified). */
  unifiedMount?: string
}

export async function detectCgroups(root = '/sys/fs/cgroup'): Promise<CgroupInfo> {
  const top = await fsp.statfs(root)
  if (top.type === CGROUP2_SUPER_MAGIC) return { mode: 'v2' }
  const unified = `${root}/unified`
  try {
    const st = await fsp.statfs(unified)
    if (st.type === CGROUP2_SUPER_MAGIC) {
      // An empty cgroup2 hierarchy next to v1 is plain v1 to every runtime.
      const controllers = (await fsp.readFile(`${unified}/cgroup.controllers`, 'utf8')).trim()
      return { mode: controllers ? 'hybrid' : 'v1', unifiedMount: unified }
    }
  } catch {
    // No unified mount: plain v1.
  }
  return { mode: 'v1' }
}
