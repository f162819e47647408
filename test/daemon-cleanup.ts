/**
 * What a test's own berthd leaves on purpose when it stops (containers would
 * live on with it): its default bridge, its firewall chains, and the network
 * namespace mount under its exec root. Tests remove them when done.
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { chainPrefix } from '../src/daemon/network-port.js'
import { nullLogger } from '../src/lib/index.js'
import { Firewall } from '../src/network/index.js'

export async function removeDaemonNetwork(bridge: string, execRoot: string): Promise<void> {
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' })
  } catch {
    // never made
  }
  await new Firewall({ prefix: chainPrefix(bridge), logger: nullLogger }).teardown().catch(() => {})
  try {
    execFileSync('sh', ['-c', `grep -o " ${execRoot}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' })
  } catch {
    // nothing mounted
  }
}

/** Everything of a stopped test berthd: mounts under its data root (base), its network, and both of its directories. */
export async function removeDaemonLeftovers(base: string, bridge: string, execRoot: string): Promise<void> {
  try {
    execFileSync('sh', ['-c', `grep -o " ${base}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' })
  } catch {
    // nothing mounted
  }
  await removeDaemonNetwork(bridge, execRoot)
  rmSync(base, { recursive: true, force: true })
  rmSync(execRoot, { recursive: true, force: true })
}
