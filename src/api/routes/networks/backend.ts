import type { EndpointConfig, EndpointRecord, NetworkCreateRequest, NetworkRecord } from '../../../network/index.js'

/** A network with the containers attached to it now, for inspect's `Containers`. */
export interface NetworkDetail {
  network: NetworkRecord
  endpoints: Array<EndpointRecord & { containerName: string }>
}

/**
 * What the /networks routes need; the daemon hands in the network service.
 * The routes resolve names and ID prefixes themselves (docker's router does),
 * so inspect and remove receive full IDs; connect and disconnect pass the
 * user's reference on, as dockerd does.
 */
export interface NetworksBackend {
  /** Every network, the predefined bridge, host and none included. */
  list(): NetworkRecord[]
  /** A network by full ID (any reference works); throws not-found `network x not found`. */
  inspect(ref: string): NetworkDetail
  /** Whether containers are attached to the network (it has endpoints): the `dangling` filter. */
  inUse(networkId: string): boolean
  /** The request is checked for shape, predefined and empty names; the rest is the service's to refuse. */
  create(req: NetworkCreateRequest): Promise<{ id: string; warning: string }>
  /** By full ID; refuses predefined networks (forbidden) and ones with endpoints. */
  remove(ref: string): Promise<void>
  /**
   * Removes the user-defined, unused networks that `keep` selects (the
   * until/label filters); returns their names.
   */
  prune(keep: (n: NetworkRecord) => boolean): Promise<string[]>
  /** `network` and `container` as the user named them (ID, name or prefix). */
  connect(network: string, container: string, cfg: EndpointConfig): Promise<void>
  disconnect(network: string, container: string, force: boolean): Promise<void>
}
