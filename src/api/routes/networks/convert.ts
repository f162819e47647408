/**
 * Networks between the domain's records and docker's JSON (moby
 * api/types/network, daemon/network.go buildNetworkResource), including the
 * shape docker gives its predefined networks.
 */
import type { EndpointConfig, EndpointRecord, NetworkCreateRequest as CreateSpec, NetworkRecord } from '../../../network/index.js'
import type { EndpointResource, EndpointSettings, IPAMConfig, NetworkCreateRequest, NetworkResource } from '../../types/index.js'
import { goBool, goInt, goString, goStringMap, goStrings, type GoType } from './decode.js'

/** Names no user network may take, and that prune and rm leave alone (daemon/network IsPredefined). */
export function isPredefined(name: string): boolean {
  return name === 'bridge' || name === 'host' || name === 'none' || name === 'default'
}

const ipamConfigType: GoType = {
  kind: 'struct', go: 'network.IPAMConfig',
  fields: { Subnet: goString, IPRange: goString, Gateway: goString, AuxiliaryAddresses: goStringMap },
}

/** network.CreateRequest as encoding/json sees it (CreateOptions embedded). */
export const createRequestType: GoType = {
  kind: 'struct', go: 'network.CreateRequest',
  fields: {
    Name: goString, Driver: goString, Scope: goString, EnableIPv4: goBool, EnableIPv6: goBool,
    IPAM: {
      kind: 'struct', go: 'network.IPAM',
      fields: { Driver: goString, Options: goStringMap, Config: { kind: 'slice', go: '[]network.IPAMConfig', elem: ipamConfigType } },
    },
    Internal: goBool, Attachable: goBool, Ingress: goBool, ConfigOnly: goBool,
    ConfigFrom: { kind: 'struct', go: 'network.ConfigReference', fields: { Network: goString } },
    Options: goStringMap, Labels: goStringMap, CheckDuplicate: goBool,
  },
}

const endpointSettingsType: GoType = {
  kind: 'struct', go: 'network.EndpointSettings',
  fields: {
    IPAMConfig: { kind: 'struct', go: 'network.EndpointIPAMConfig', fields: { IPv4Address: goString, IPv6Address: goString, LinkLocalIPs: goStrings } },
    Links: goStrings, Aliases: goStrings, MacAddress: goString, DriverOpts: goStringMap, GwPriority: goInt,
    NetworkID: goString, EndpointID: goString, Gateway: goString, IPAddress: goString, IPPrefixLen: goInt,
    IPv6Gateway: goString, GlobalIPv6Address: goString, GlobalIPv6PrefixLen: goInt, DNSNames: goStrings,
  },
}

export const connectRequestType: GoType = {
  kind: 'struct', go: 'network.ConnectOptions',
  fields: { Container: goString, EndpointConfig: endpointSettingsType },
}

export const disconnectRequestType: GoType = {
  kind: 'struct', go: 'network.DisconnectOptions',
  fields: { Container: goString, Force: goBool },
}

function ipamConfigOf(c: NetworkRecord['ipam']['config'][number]): IPAMConfig {
  const out: IPAMConfig = { Subnet: c.subnet }
  if (c.ipRange) out.IPRange = c.ipRange
  if (c.gateway) out.Gateway = c.gateway
  if (c.auxAddresses && Object.keys(c.auxAddresses).length) out.AuxiliaryAddresses = { ...c.auxAddresses }
  return out
}

export function toEndpointResource(e: EndpointRecord & { containerName: string }): EndpointResource {
  return { Name: e.containerName, EndpointID: e.id, MacAddress: e.mac, IPv4Address: e.ipv4, IPv6Address: e.ipv6 }
}

/**
 * A network in docker's JSON. Without `endpoints` (lists since API 1.28)
 * `Containers` is `{}`, as docker's list. The predefined networks read as
 * dockerd's do: host and none have IPv4 "enabled", no IPAM config and no IPAM
 * options; the default bridge has null IPAM options.
 */
export function toNetworkResource(n: NetworkRecord, endpoints?: Array<EndpointRecord & { containerName: string }>): NetworkResource {
  const special = n.driver === 'host' || n.driver === 'null'
  const predefined = isPredefined(n.name)
  const config = n.ipam.config.map(ipamConfigOf)
  const ipamOptions = Object.keys(n.ipam.options).length || !predefined ? { ...n.ipam.options } : null
  const containers: Record<string, EndpointResource> = {}
  for (const e of endpoints ?? []) containers[e.containerId] = toEndpointResource(e)
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: n.scope,
    Driver: n.driver,
    EnableIPv4: special && predefined ? true : n.enableIPv4,
    EnableIPv6: n.enableIPv6,
    IPAM: { Driver: n.ipam.driver || 'default', Options: ipamOptions, Config: special && config.length === 0 ? null : config },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...n.options },
    Labels: { ...n.labels },
  }
}

/** The domain's create request from a decoded body (types already checked). */
export function createSpecOf(body: NetworkCreateRequest): CreateSpec {
  const ipam = body.IPAM ?? undefined
  const spec: CreateSpec = {
    name: body.Name ?? '',
    // dockerd's default driver (controller DefaultDriver) when none is named.
    driver: body.Driver || 'bridge',
    internal: body.Internal ?? false,
    attachable: body.Attachable ?? false,
    ipam: {
      driver: ipam?.Driver || 'default',
      options: { ...(ipam?.Options ?? {}) },
      config: (ipam?.Config ?? []).map((c) => ({
        subnet: c.Subnet ?? '',
        ...(c.IPRange ? { ipRange: c.IPRange } : {}),
        ...(c.Gateway ? { gateway: c.Gateway } : {}),
        ...(c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length ? { auxAddresses: { ...c.AuxiliaryAddresses } } : {}),
      })),
    },
    options: { ...(body.Options ?? {}) },
    labels: { ...(body.Labels ?? {}) },
  }
  if (body.EnableIPv4 !== undefined) spec.enableIPv4 = body.EnableIPv4
  if (body.EnableIPv6 !== undefined) spec.enableIPv6 = body.EnableIPv6
  if (body.Ingress) spec.ingress = true
  if (body.ConfigOnly) spec.configOnly = true
  if (body.ConfigFrom?.Network) spec.configFrom = body.ConfigFrom.Network
  if (body.Scope) spec.scope = body.Scope
  return spec
}

/** What connect asks for one endpoint (EndpointConfig may be absent: all defaults). */
export function endpointConfigOf(s: EndpointSettings | null | undefined): EndpointConfig {
  return {
    aliases: [...(s?.Aliases ?? [])],
    links: [...(s?.Links ?? [])],
    ipv4: s?.IPAMConfig?.IPv4Address ?? '',
    ipv6: s?.IPAMConfig?.IPv6Address ?? '',
    ...(s?.IPAMConfig?.LinkLocalIPs?.length ? { linkLocalIPs: [...s.IPAMConfig.LinkLocalIPs] } : {}),
    mac: s?.MacAddress ?? '',
    driverOpts: { ...(s?.DriverOpts ?? {}) },
    gwPriority: s?.GwPriority ?? 0,
  }
}
