/** POST /auth: docker's registry.AuthConfig as the CLI sends it, and the answer. */
export interface AuthConfig {
  username?: string
  password?: string
  /** base64("user:password"), as stored in config.json. */
  auth?: string
  /** Deprecated by docker; accepted and ignored. */
  email?: string
  serveraddress?: string
  identitytoken?: string
  registrytoken?: string
}

export interface AuthResponse {
  Status: string
  IdentityToken?: string
}
