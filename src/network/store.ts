import type { Db } from '../db/index.js'
import { migrate } from '../db/index.js'
import type { EndpointRecord, NetworkRecord, SandboxRecord } from './types.js'

const migrations = [
  {
    owner: 'network',
    version: 1,
    up: `CREATE TABLE networks (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      record TEXT NOT NULL
    );
    CREATE TABLE endpoints (
      id TEXT PRIMARY KEY,
      network_id TEXT NOT NULL REFERENCES networks(id),
      container_id TEXT NOT NULL,
      record TEXT NOT NULL,
      UNIQUE (network_id, container_id)
    );
    CREATE TABLE sandboxes (
      container_id TEXT PRIMARY KEY,
      record TEXT NOT NULL
    )`,
  },
]

/**
 * The one owner of network state: networks, live endpoints (their addresses
 * are the IPAM's allocations), and sandboxes. Kept in memory as well, since
 * the embedded DNS answers from it on every query.
 */
export class NetworkStore {
  private readonly networks = new Map<string, NetworkRecord>()
  private readonly endpoints = new Map<string, EndpointRecord>()
  private readonly sandboxes = new Map<string, SandboxRecord>()
  private readonly q

  constructor(private readonly db: Db) {
    migrate(db, migrations)
    this.q = {
      putNetwork: db.prepare('INSERT INTO networks (id, name, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record'),
      delNetwork: db.prepare('DELETE FROM networks WHERE id = ?'),
      putEndpoint: db.prepare('INSERT INTO endpoints (id, network_id, container_id, record) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record'),
      delEndpoint: db.prepare('DELETE FROM endpoints WHERE id = ?'),
      putSandbox: db.prepare('INSERT INTO sandboxes (container_id, record) VALUES (?, ?) ON CONFLICT(container_id) DO UPDATE SET record = excluded.record'),
      delSandbox: db.prepare('DELETE FROM sandboxes WHERE container_id = ?'),
    }
    for (const r of db.prepare('SELECT record FROM networks').all() as { record: string }[]) {
      const n = JSON.parse(r.record) as NetworkRecord
      this.networks.set(n.id, n)
    }
    for (const r of db.prepare('SELECT record FROM endpoints').all() as { record: string }[]) {
      const e = JSON.parse(r.record) as EndpointRecord
      this.endpoints.set(e.id, e)
    }
    for (const r of db.prepare('SELECT record FROM sandboxes').all() as { record: string }[]) {
      const s = JSON.parse(r.record) as SandboxRecord
      this.sandboxes.set(s.containerId, s)
    }
  }

  allNetworks(): NetworkRecord[] {
    return [...this.networks.values()]
  }

  network(id: string): NetworkRecord | undefined {
    return this.networks.get(id)
  }

  byName(name: string): NetworkRecord | undefined {
    for (const n of this.networks.values()) if (n.name === name) return n
    return undefined
  }

  saveNetwork(n: NetworkRecord): void {
    this.q.putNetwork.run(n.id, n.name, JSON.stringify(n))
    this.networks.set(n.id, n)
  }

  removeNetwork(id: string): void {
    this.q.delNetwork.run(id)
    this.networks.delete(id)
  }

  allEndpoints(): EndpointRecord[] {
    return [...this.endpoints.values()]
  }

  endpointsOf(networkId: string): EndpointRecord[] {
    return this.allEndpoints().filter((e) => e.networkId === networkId)
  }

  endpointsFor(containerId: string): EndpointRecord[] {
    return this.allEndpoints().filter((e) => e.containerId === containerId)
  }

  saveEndpoint(e: EndpointRecord): void {
    this.q.putEndpoint.run(e.id, e.networkId, e.containerId, JSON.stringify(e))
    this.endpoints.set(e.id, e)
  }

  removeEndpoint(id: string): void {
    this.q.delEndpoint.run(id)
    this.endpoints.delete(id)
  }

  sandbox(containerId: string): SandboxRecord | undefined {
    return this.sandboxes.get(containerId)
  }

  allSandboxes(): SandboxRecord[] {
    return [...this.sandboxes.values()]
  }

  saveSandbox(s: SandboxRecord): void {
    this.q.putSandbox.run(s.containerId, JSON.stringify(s))
    this.sandboxes.set(s.containerId, s)
  }

  removeSandbox(containerId: string): void {
    this.q.delSandbox.run(containerId)
    this.sandboxes.delete(containerId)
  }

  /** Several changes that stand or fall together (an endpoint and its sandbox). */
  transaction(fn: () => void): void {
    this.db.transaction(fn)()
  }
}
