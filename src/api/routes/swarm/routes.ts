/**
 * The swarm-mode routes of a node that is in no swarm (moby
 * daemon/cluster): berthd runs standalone, so every manager call gets
 * dockerd's 503 "not a swarm manager", leave and unlock its "not part of a
 * swarm", and init/join say that berth has no swarm mode yet. The docker CLI
 * then prints what it prints against a dockerd outside a swarm.
 */
import { notImplemented, unavailable } from '../../../errors/index.js'
import type { Router } from '../../server/index.js'

/** dockerd's answer to manager calls on a node outside any swarm. */
export const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
const NO_SWARM = 'This node is not part of a swarm'
const NO_SWARM_MODE = 'swarm mode is not available in berth yet: berthd runs standalone containers only'

export function swarmRoutes(r: Router): void {
  const notManager = (): never => {
    throw unavailable(NOT_A_MANAGER)
  }
  r.get('/swarm', notManager)
  r.get('/swarm/unlockkey', notManager)
  r.post('/swarm/update', notManager)
  r.post('/swarm/leave', () => {
    throw unavailable(NO_SWARM)
  })
  r.post('/swarm/unlock', notManager)
  for (const p of ['/swarm/init', '/swarm/join']) {
    r.post(p, () => {
      throw notImplemented(NO_SWARM_MODE)
    })
  }
  // Nodes, services, tasks, secrets and configs live in the swarm's store.
  for (const kind of ['nodes', 'services', 'tasks', 'secrets', 'configs']) {
    r.get(`/${kind}`, notManager)
    r.get(`/${kind}/{id:.*}`, notManager)
    r.post(`/${kind}/{id:.*}`, notManager)
    r.delete(`/${kind}/{id:.*}`, notManager)
  }
}
