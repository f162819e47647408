/**
 * What a log driver knows of its container (moby daemon/logger/loginfo.go
 * logger.Info) and the `tag` option (loggerutils.ParseLogTag): a Go template
 * over that Info, with the same fields and methods, so `{{.Name}}`,
 * `{{.ID}}`, `{{.ImageName}}`, `{{.DaemonName}}` … read as in docker.
 */
import { dockerFuncs, parseTemplate } from '../../gotemplate/index.js'
import { invalidArgument } from '../../errors/index.js'
import type { LogOpts } from './options.js'

export interface LogInfoInit {
  config?: LogOpts
  containerID: string
  /** As docker stores it, with the leading '/'. */
  containerName: string
  containerEntrypoint?: string
  containerArgs?: readonly string[]
  /** sha256:… */
  containerImageID?: string
  /** The image as the user named it (Config.Image). */
  containerImageName?: string
  containerCreated?: Date
  containerEnv?: readonly string[]
  containerLabels?: Readonly<Record<string, string>>
  logPath?: string
  daemonName?: string
  /** The host's name; dockerd asks os.Hostname(). */
  hostname?: string
}

/**
 * logger.Info. Fields and methods keep Go's names because tag templates name
 * them; a template sees exactly these (plus Config, a map).
 */
export class LogInfo {
  readonly Config: Readonly<Record<string, string>>
  readonly ContainerID: string
  readonly ContainerName: string
  readonly ContainerEntrypoint: string
  readonly ContainerArgs: readonly string[]
  readonly ContainerImageID: string
  readonly ContainerImageName: string
  readonly ContainerCreated: Date
  readonly ContainerEnv: readonly string[]
  readonly ContainerLabels: Readonly<Record<string, string>>
  readonly LogPath: string
  readonly DaemonName: string
  readonly #hostname: string

  constructor(init: LogInfoInit) {
    this.Config = { ...init.config }
    this.ContainerID = init.containerID
    this.ContainerName = init.containerName
    this.ContainerEntrypoint = init.containerEntrypoint ?? ''
    this.ContainerArgs = [...(init.containerArgs ?? [])]
    this.ContainerImageID = init.containerImageID ?? ''
    this.ContainerImageName = init.containerImageName ?? ''
    this.ContainerCreated = init.containerCreated ?? new Date(0)
    this.ContainerEnv = [...(init.containerEnv ?? [])]
    this.ContainerLabels = { ...init.containerLabels }
    this.LogPath = init.logPath ?? ''
    this.DaemonName = init.daemonName ?? 'docker'
    this.#hostname = init.hostname ?? ''
  }

  /** The container ID shortened to 12 characters. */
  ID(): string {
    return this.ContainerID.slice(0, 12)
  }

  FullID(): string {
    return this.ContainerID
  }

  /** The container name without its leading '/'. */
  Name(): string {
    return this.ContainerName.startsWith('/') ? this.ContainerName.slice(1) : this.ContainerName
  }

  /** The image ID shortened to 12 characters, "sha256:" included, as Go slices it. */
  ImageID(): string {
    return this.ContainerImageID.slice(0, 12)
  }

  ImageFullID(): string {
    return this.ContainerImageID
  }

  ImageName(): string {
    return this.ContainerImageName
  }

  /** Entrypoint then arguments, space-joined (an empty entrypoint leaves a leading space, as in Go). */
  Command(): string {
    return [this.ContainerEntrypoint, ...this.ContainerArgs].join(' ')
  }

  Hostname(): string {
    return this.#hostname
  }

  /**
   * The labels / labels-regex / env / env-regex options resolved against the
   * container: key → value. keyMod renames keys (gelf prefixes '_', journald
   * upper-cases).
   */
  ExtraAttributes(keyMod?: (key: string) => string): Record<string, string> {
    const extra: Record<string, string> = {}
    const put = (k: string, v: string) => {
      extra[keyMod ? keyMod(k) : k] = v
    }
    const cfg = this.Config
    const labels = cfg['labels']
    if (labels) {
      for (const l of labels.split(',')) {
        if (Object.hasOwn(this.ContainerLabels, l)) put(l, this.ContainerLabels[l]!)
      }
    }
    const labelsRegex = cfg['labels-regex']
    if (labelsRegex) {
      const re = compileRegexp(labelsRegex)
      for (const [k, v] of Object.entries(this.ContainerLabels)) if (re.test(k)) put(k, v)
    }
    const env = new Map<string, string>()
    for (const e of this.ContainerEnv) {
      const eq = e.indexOf('=')
      if (eq >= 0) env.set(e.slice(0, eq), e.slice(eq + 1))
    }
    if (env.size === 0) return extra
    const envOpt = cfg['env']
    if (envOpt) {
      for (const l of envOpt.split(',')) {
        const v = env.get(l)
        if (v !== undefined) put(l, v)
      }
    }
    const envRegex = cfg['env-regex']
    if (envRegex) {
      const re = compileRegexp(envRegex)
      for (const [k, v] of env) if (re.test(k)) put(k, v)
    }
    return extra
  }
}

// Go's template errors name the receiver's type; moby's is *logger.Info.
Object.defineProperty(LogInfo, 'name', { value: 'logger.Info' })

/** Go's RE2 syntax mostly agrees with JS's for the key filters users write. */
function compileRegexp(expr: string): RegExp {
  try {
    return new RegExp(expr, 'u')
  } catch (err) {
    throw invalidArgument(`error parsing regexp: ${(err as Error).message}`, err)
  }
}

export const DEFAULT_TAG_TEMPLATE = '{{.ID}}'

/**
 * loggerutils.ParseLogTag: the `tag` option (or defaultTemplate when unset
 * or empty) executed over the info. Throws an invalid-argument TemplateError
 * with Go's text, e.g. `template: log-tag:1:2: executing "log-tag" at
 * <.Nope>: can't evaluate field Nope in type *logger.Info`.
 */
export function parseLogTag(info: LogInfo, defaultTemplate: string): string {
  const text = info.Config['tag'] || defaultTemplate
  if (text === '') return ''
  const tmpl = parseTemplate(text, { name: 'log-tag', funcs: dockerFuncs })
  return tmpl.execute(info)
}
