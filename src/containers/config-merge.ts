/**
 * How a container's config takes the image's defaults (moby daemon/commit.go
 * merge and daemon/create.go mergeAndVerifyConfig), pure: the environment and
 * the entrypoint and command that inspect shows as Config.
 */
import { invalidArgument } from '../errors/index.js'

const keyOf = (e: string) => {
  const i = e.indexOf('=')
  return i < 0 ? e : e.slice(0, i)
}

/**
 * Config.Env: the user's entries as given, then each image entry whose name
 * the user did not set. A bare NAME stays as it is: the runtime environment
 * treats it as "unset" (daemon/specs.ts).
 */
export function mergeEnv(image: readonly string[], user: readonly string[]): string[] {
  if (user.length === 0) return [...image]
  const userKeys = new Set(user.map(keyOf))
  return [...user, ...image.filter((e) => !userKeys.has(keyOf(e)))]
}

/**
 * Config.Entrypoint and Config.Cmd. The image's Cmd applies only when the
 * user gave neither an entrypoint nor a command; its Entrypoint only when the
 * user gave none at all (null). `--entrypoint ""` arrives as [""]: it clears
 * the image's entrypoint and the command runs by itself.
 */
export function mergeCommand(user: { entrypoint: string[] | null; cmd: string[] | null }, image: { Entrypoint?: string[] | null; Cmd?: string[] | null }): { entrypoint: string[]; cmd: string[] } {
  let entrypoint = user.entrypoint
  let cmd = user.cmd ?? []
  if (!entrypoint || entrypoint.length === 0) {
    if (cmd.length === 0) cmd = image.Cmd ?? []
    entrypoint ??= image.Entrypoint ?? []
  }
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = []
  if (entrypoint.length === 0 && cmd.length === 0) throw invalidArgument('no command specified')
  return { entrypoint, cmd }
}
