/** What POST /auth needs: a credentials check against a registry (the daemon passes the registry client's). */
export interface AuthBackend {
  /** Resolves when the registry accepts the credentials; throws an 'unauthorized' EngineError when it refuses them. */
  login(req: { serverAddress: string; username: string; password: string }, signal?: AbortSignal): Promise<{ identityToken: string }>
}
