import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { NetworksBackend } from '../api/routes/networks/index.js'
import type { NetworkView } from '../api/routes/containers/index.js'
import type { ContainerRecord, ContainerService, NetworkPort } from '../containers/index.js'
import type { Db } from '../db/index.js'
import { conflict, unavailable } from '../errors/index.js'
import type { EventBus } from '../events/index.js'
import { exclusive, type Logger } from '../lib/index.js'
import { Firewall, NetworkService, NetworkStore, ulaPool, type SandboxRequest } from '../network/index.js'
import type { DaemonConfig } from './config.js'

/** berth0's chains are BERTH-*; a berthd with another default bridge gets chains of its own. */
export function chainPrefix(bridge: string): string {
  return bridge === 'berth0' ? 'BERTH' : `BERTH-${bridge.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 16)
}

let hostResolvers: string[] = []
async function readHostResolvers(): Promise<string[]> {
  const text = await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '')
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1] ?? '').filter(Boolean)
}

export async function openNetwork(o: { cfg: DaemonConfig; db: Db; events: EventBus; logger: Logger; engineId: string }): Promise<NetworkService> {
  const n = o.cfg.network
  if (n.bridge === 'none') throw unavailable('"bridge": "none" (no default bridge) is not supported by berth yet')
  let firewall: Firewall | null = null
  if (n.iptables) {
    const ok = await Firewall.detect()
    if (!ok.ok) throw unavailable(`networking needs iptables: ${ok.reason} (or set "iptables": false in daemon.json to manage the firewall yourself)`)
    firewall = new Firewall({ prefix: chainPrefix(n.bridge), logger: o.logger })
  }
  hostResolvers = await readHostResolvers()
  return new NetworkService({
    store: new NetworkStore(o.db),
    events: o.events,
    logger: o.logger,
    netnsDir: path.join(o.cfg.execRoot, 'netns'),
    defaultBridge: { name: n.bridge, ...(n.bip ? { bip: n.bip } : {}), ...(n.fixedCidr ? { fixedCidr: n.fixedCidr } : {}), mtu: n.mtu, icc: n.icc, ipMasq: n.ipMasq },
    ...(n.defaultAddressPools.length ? { pools: n.defaultAddressPools } : {}),
    // As dockerd: the IPv6 pool's /48 is derived from the engine ID, so it differs between hosts.
    pools6: [ulaPool(o.engineId)],
    firewall,
    ipForward: n.ipForward,
    hostResolvers: () => hostResolvers,
  })
}

/** What the network service needs to know of a container to give it a sandbox. */
function sandboxRequest(rec: ContainerRecord, containers: ContainerService): SandboxRequest {
  const links = rec.spec.host.links.map((l) => {
    const [target = '', alias = target] = l.split(':')
    const other = containers.get(target.replace(/^\//, ''))
    return { containerId: other.id, names: [...new Set([alias, other.name, other.id.slice(0, 12)])] }
  })
  return {
    containerId: rec.id,
    containerName: rec.name,
    hostname: rec.spec.hostname,
    networks: Object.entries(rec.spec.networks).map(([name, config]) => ({ name, config })),
    portBindings: rec.spec.host.portBindings,
    publishAll: rec.spec.host.publishAllPorts,
    exposedPorts: rec.effective.exposedPorts,
    dns: rec.spec.host.dns,
    links,
  }
}

export function networkPort(net: NetworkService, containers: () => ContainerService): NetworkPort {
  return {
    validate: (networks, opts) => net.validate(networks, opts),
    attach: (rec, o) => net.attach(sandboxRequest(rec, containers()), o),
    detach: (id) => net.detach(id),
    connect: (rec, network, config) => net.connect(sandboxRequest(rec, containers()), network, config),
    disconnect: (rec, network) => net.disconnect(rec.id, network),
    renamed: (rec, oldName) => net.renamed(rec.id, oldName, rec.name),
  }
}

export function networkView(net: NetworkService, rec: ContainerRecord): NetworkView {
  const networkIds: Record<string, string> = {}
  for (const name of Object.keys(rec.spec.networks)) {
    try {
      networkIds[name] = net.find(name).id
    } catch {
      // A network removed while the container was stopped: inspect shows no ID.
    }
  }
  const mode = rec.spec.host.network.kind
  if (mode === 'host' || mode === 'none') {
    try {
      networkIds[mode] = net.find(mode).id
    } catch {
      // predefined networks always exist once berthd has started
    }
  }
  return { ...net.containerView(rec.id), networkIds }
}

export function networksBackend(net: NetworkService, containers: ContainerService): NetworksBackend {
  const pruning = exclusive(() => conflict('a prune operation is already running'))
  const configured = (networkId: string) => {
    const n = net.find(networkId)
    return containers.list().some((c) => {
      const m = c.spec.host.network.kind
      if (m === 'network') return Object.keys(c.spec.networks).some((k) => k === n.name || k === n.id)
      return (m === 'host' && n.name === 'host') || (m === 'none' && n.name === 'none')
    })
  }
  return {
    list: () => net.list(),
    inspect: (ref) => {
      const network = net.find(ref)
      const endpoints = net.endpointsOf(network.id).map((e) => {
        let containerName = ''
        try {
          containerName = containers.get(e.containerId).name
        } catch {
          // removed meanwhile
        }
        return { ...e, containerName }
      })
      return { network, endpoints }
    },
    inUse: (id) => configured(id) || net.endpointsOf(id).length > 0,
    create: (req) => net.create(req),
    remove: (ref) => net.remove(ref),
    prune: (keep) => pruning(async () => {
      const removed: string[] = []
      for (const n of net.list()) {
        if (net.isPredefined(n) || !keep(n) || configured(n.id) || net.endpointsOf(n.id).length) continue
        try {
          await net.remove(n.id)
          removed.push(n.name)
        } catch {
          // in use after all: skipped, as docker's prune does
        }
      }
      return removed
    }),
    connect: (network, container, cfg) => containers.connectNetwork(container, network, cfg),
    disconnect: (network, container, force) => containers.disconnectNetwork(container, network, force),
  }
}
