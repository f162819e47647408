/**
 * The network domain: networks, the endpoints that join containers to them,
 * and the sandbox (network namespace + published ports) of each container.
 * The API layer maps these to docker's JSON; the network service owns them.
 */

export type DriverName = 'bridge' | 'host' | 'null' | 'macvlan'

export interface IpamConfig {
  /** CIDR, canonical (host bits zero). */
  subnet: string
  ipRange?: string
  gateway?: string
  auxAddresses?: Record<string, string>
}

export interface NetworkRecord {
  id: string
  name: string
  driver: DriverName
  /** RFC 3339 with nanoseconds, as docker prints it. */
  created: string
  scope: 'local'
  enableIPv4: boolean
  enableIPv6: boolean
  internal: boolean
  attachable: boolean
  ipam: { driver: string; options: Record<string, string>; config: IpamConfig[] }
  /** Driver options as the user gave them (com.docker.network.bridge.*, parent, ...), defaults filled in for bridge. */
  options: Record<string, string>
  labels: Record<string, string>
  /** The user chose the subnets (--subnet): only then may containers ask for an address (--ip). */
  userSubnets?: boolean
  /** macvlan: berth made the parent (a dummy link or a VLAN sub-interface) and removes it with the last network on it. */
  ownsParent?: boolean
  /** The kernel interface the network lives on: the Linux bridge, or macvlan's parent. Empty for host/null. */
  ifname: string
}

/** What a user asks of a container's attachment to one network (docker's EndpointSettings, request side). */
export interface EndpointConfig {
  aliases: string[]
  /** `name:alias` pairs, as --link gives them. */
  links: string[]
  /** --ip / --ip6: a fixed address, else allocated. */
  ipv4: string
  ipv6: string
  /** --link-local-ip: extra addresses on the interface (169.254/16, fe80::/64). */
  linkLocalIPs?: string[]
  mac: string
  driverOpts: Record<string, string>
  gwPriority: number
}

/** A live attachment: allocated while the container runs, released when it stops. */
export interface EndpointRecord {
  id: string
  networkId: string
  containerId: string
  /** Address with prefix length (172.18.0.2/16); empty when the network has no IPv4. */
  ipv4: string
  ipv6: string
  gateway: string
  gateway6: string
  mac: string
  aliases: string[]
  linkLocalIPs?: string[]
  /** Names the embedded DNS answers for: container name, short ID, aliases, link aliases. */
  dnsNames: string[]
  /** Host-side interface (veth peer); empty for macvlan. */
  hostIfname: string
  /** Interface inside the container (eth0, eth1, ...). */
  ifname: string
}

export type Proto = 'tcp' | 'udp' | 'sctp'

/** A published port as it was bound: the host port is resolved (never empty or a range). */
export interface PortBinding {
  proto: Proto
  containerPort: number
  /** 0.0.0.0, ::, or a host address. */
  hostIp: string
  hostPort: number
}

/** A container's network namespace and what the host publishes for it. */
export interface SandboxRecord {
  containerId: string
  containerName: string
  /** Bind-mounted namespace file, docker's SandboxKey. */
  netnsPath: string
  ports: PortBinding[]
  /** The container's --dns: where the embedded DNS forwards its questions. */
  dns: string[]
  /** Legacy links: names only this container resolves, to the linked container's address. */
  links: Array<{ containerId: string; names: string[] }>
}

export interface NetworkCreateRequest {
  name: string
  driver: string
  internal: boolean
  attachable: boolean
  enableIPv4?: boolean
  enableIPv6?: boolean
  ipam: { driver: string; options: Record<string, string>; config: IpamConfig[] }
  options: Record<string, string>
  labels: Record<string, string>
  ingress?: boolean
  configOnly?: boolean
  configFrom?: string
  scope?: string
}
