/** Network wire types: endpoints inside container create and inspect, and the /networks resource. */
import type { PortMap } from './common.js'
import type { NetworkPruneReport } from './image.js'

export interface EndpointIPAMConfig {
  IPv4Address?: string
  IPv6Address?: string
  LinkLocalIPs?: string[] | null
}

export interface EndpointSettings {
  IPAMConfig?: EndpointIPAMConfig | null
  Links?: string[] | null
  Aliases?: string[] | null
  MacAddress?: string
  DriverOpts?: Record<string, string> | null
  GwPriority?: number
  NetworkID?: string
  EndpointID?: string
  Gateway?: string
  IPAddress?: string
  IPPrefixLen?: number
  IPv6Gateway?: string
  GlobalIPv6Address?: string
  GlobalIPv6PrefixLen?: number
  DNSNames?: string[] | null
}

export interface NetworkingConfig {
  EndpointsConfig?: Record<string, EndpointSettings> | null
}

export interface Address {
  Addr: string
  PrefixLen: number
}

export interface NetworkSettings {
  Bridge: string
  SandboxID: string
  HairpinMode?: boolean
  LinkLocalIPv6Address?: string
  LinkLocalIPv6PrefixLen?: number
  Ports: PortMap
  SandboxKey: string
  SecondaryIPAddresses?: Address[] | null
  SecondaryIPv6Addresses?: Address[] | null
  // Deprecated top-level copies of the default bridge endpoint, still sent by 1.50.
  EndpointID?: string
  Gateway?: string
  GlobalIPv6Address?: string
  GlobalIPv6PrefixLen?: number
  IPAddress?: string
  IPPrefixLen?: number
  IPv6Gateway?: string
  MacAddress?: string
  Networks: Record<string, EndpointSettings>
}

/** IPAM of a network (moby api/types/network IPAM); Options and Config are null when docker has none. */
export interface IPAM {
  Driver: string
  Options: Record<string, string> | null
  Config: IPAMConfig[] | null
}

/** One subnet of a network; empty fields are omitted, as Go's `omitempty`. */
export interface IPAMConfig {
  Subnet?: string
  IPRange?: string
  Gateway?: string
  AuxiliaryAddresses?: Record<string, string>
}

export interface ConfigReference {
  Network: string
}

/** A container's endpoint in GET /networks/{id} `Containers`. */
export interface EndpointResource {
  Name: string
  EndpointID: string
  MacAddress: string
  /** With prefix length: 172.18.0.2/16; empty without one. */
  IPv4Address: string
  IPv6Address: string
}

export interface PeerInfo {
  Name: string
  IP: string
}

/** GET /networks/{id} and each item of GET /networks (docker's network.Inspect / network.Summary). */
export interface NetworkResource {
  Name: string
  Id: string
  /** RFC3339Nano. */
  Created: string
  Scope: string
  Driver: string
  EnableIPv4: boolean
  EnableIPv6: boolean
  IPAM: IPAM
  Internal: boolean
  Attachable: boolean
  Ingress: boolean
  ConfigFrom: ConfigReference
  ConfigOnly: boolean
  /** Keyed by container ID; always `{}` in lists from API 1.28 on. */
  Containers: Record<string, EndpointResource>
  Options: Record<string, string>
  Labels: Record<string, string>
  Peers?: PeerInfo[]
}

export type NetworkInspect = NetworkResource
export type NetworkSummary = NetworkResource

/** Body of POST /networks/create. */
export interface NetworkCreateRequest {
  Name: string
  Driver?: string
  Scope?: string
  /** API 1.48+; omitted means enabled. */
  EnableIPv4?: boolean
  EnableIPv6?: boolean
  IPAM?: IPAM | null
  Internal?: boolean
  Attachable?: boolean
  Ingress?: boolean
  ConfigOnly?: boolean
  ConfigFrom?: ConfigReference | null
  Options?: Record<string, string> | null
  Labels?: Record<string, string> | null
  /** Deprecated in API 1.44 and ignored. */
  CheckDuplicate?: boolean
}

export interface NetworkCreateResponse {
  Id: string
  Warning: string
}

/** Body of POST /networks/{id}/connect. */
export interface NetworkConnectRequest {
  Container: string
  EndpointConfig?: EndpointSettings | null
}

/** Body of POST /networks/{id}/disconnect. */
export interface NetworkDisconnectRequest {
  Container: string
  Force?: boolean
}

/** Body of the POST /networks/prune answer. */
export type NetworksPruneResponse = NetworkPruneReport
