/**
 * Shared Engine API wire types (moby api/swagger.yaml, v1.50). Field names are
 * docker's PascalCase JSON names; optional where docker omits the field.
 */

/** `{"message": …}`: the body of every non-2xx response. */
export interface ErrorResponse {
  message: string
}

/** `{"Id": …}` returned by exec create and a few others. */
export interface IdResponse {
  Id: string
}

/** Filters in docker's JSON map form: `{"label":{"a=b":true}}`. */
export type FilterMap = Record<string, Record<string, boolean>>

export type Labels = Record<string, string>

/** Maps "80/tcp" to `{}`; Go's `map[string]struct{}`. */
export type PortSet = Record<string, Record<string, never>>

export interface PortBinding {
  HostIp?: string
  HostPort?: string
}

/** "80/tcp" → bindings; null means exposed but not published. */
export type PortMap = Record<string, PortBinding[] | null>

/** One row of ContainerSummary.Ports. */
export interface Port {
  IP?: string
  PrivatePort: number
  PublicPort?: number
  Type: 'tcp' | 'udp' | 'sctp' | string
}

export interface GraphDriverData {
  Name: string
  Data: Record<string, string> | null
}

export interface Platform {
  architecture: string
  os: string
  'os.version'?: string
  'os.features'?: string[]
  variant?: string
}

/** An OCI descriptor as the API serialises it. */
export interface OCIDescriptor {
  mediaType: string
  digest: string
  size: number
  urls?: string[]
  annotations?: Record<string, string>
  data?: string
  platform?: Platform
  artifactType?: string
}
