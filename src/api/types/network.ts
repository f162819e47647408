/** Network wire types used inside container create and inspect. */
import type { PortMap } from './common.js'

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
