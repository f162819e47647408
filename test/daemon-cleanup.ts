/**
 * What a test's own berthd leaves on purpose when it stops (containers would
 * live on with it): its default bridge, its firewall chains, and the network
 * namespace mount under its exec root. Tests remove them when done.
 */
import { execFileSync } from 'node:child_process'
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
