/**
 * How dockerd tells an exec the runtime could not start. moby's
 * setExitCodeFromError (daemon/errors.go) reads the exit code the exec records
 * out of containerd's message, which is the runtime's words after "OCI runtime
 * exec failed: " and before containerd's ": unknown", and adds its own hints.
 * Clients see those words on the exec's stream and the code in its inspect.
 */
export interface ExecStartFailure {
  /** 126 cannot be invoked, 127 missing (the program or the working directory), 128 anything else. */
  exitCode: number
  message: string
}

const prefix = 'OCI runtime exec failed: '

const invalidCommand = ['executable file not found', 'no such file or directory', 'system cannot find the file specified', 'failed to run runc create/exec call']

/** `detail`: what the runtime said, with or without "OCI runtime exec failed: " before it. */
export function execStartFailure(detail: string): ExecStartFailure {
  const desc = `${detail.startsWith(prefix) ? detail : prefix + detail}: unknown`
  const lower = desc.toLowerCase()
  if (lower.includes('permission denied')) return { exitCode: 126, message: desc }
  // Since Go 1.20 exec'ing a directory is EISDIR; the docker CLI looks for EACCES's words, so moby adds them.
  if (lower.includes('is a directory')) return { exitCode: 126, message: `${desc}: permission denied` }
  if (lower.includes('not a directory')) {
    return { exitCode: 127, message: `${desc}: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type` }
  }
  if (invalidCommand.some((s) => lower.includes(s))) return { exitCode: 127, message: desc }
  return { exitCode: 128, message: desc }
}
