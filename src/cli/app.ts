/**
 * berth's command tree (docker's, via commander). Only flag definitions live
 * here; each action imports its command module on demand so `berth ps` loads
 * little code.
 */
import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander'
import { flagUsages, type FlagRow } from './output/wrap.js'
import { parseNetworkOpt, validateDnsSearch, validateExtraHost, validateIpAddress, validateLabel, validateLink } from './opts.js'
import { resourceValueCheck } from './resource-opts.js'

export type Opts = Record<string, unknown>
/** Every handler: positional args, parsed options, and the command path for messages. */
export type Handler = (args: string[], opts: Opts, ctx: { path: string; globals: Opts }) => Promise<number | void>

type Loader = () => Promise<Record<string, unknown>>

const list = (v: string, prev: string[] = []): string[] => [...prev, v]

interface CmdSpec {
  use: string
  short: string
  /** Minimum and maximum number of positional args (max -1: unbounded). */
  args: [number, number]
  opts?: OptSpec[]
  /** Stop option parsing at the first positional (IMAGE, CONTAINER COMMAND…). */
  interspersed?: false
  load: Loader
  fn: string
  aliases?: string[]
}

/** [flags, description, kind?, default?]; kind 'list' repeats, 'optbool' takes an optional =false, 'hiddenlist' is a list left out of help. */
type OptSpec = [string, string, ('list' | 'optbool' | 'hidden' | 'hiddenlist')?, unknown?]

const FORMAT_HINT = 'Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates'
const FORMAT_JSON = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
${FORMAT_HINT}`
const FORMAT_TABLE = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
${FORMAT_HINT}`

/** run/create's resource, security, health and namespace flags (docker's opts.go addFlags). */
const resourceRunOpts: OptSpec[] = [
  ['--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)'],
  ['--blkio-weight-device <list>', 'Block IO weight (relative device weight) (default [])', 'list'],
  ['--cgroup-parent <string>', 'Optional parent cgroup for the container'],
  ['--cgroupns <string>', `Cgroup namespace to use (host|private)
'host':    Run the container in the Docker host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)`],
  ['--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period'],
  ['--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota'],
  ['--cpu-rt-period <int>', 'Limit CPU real-time period in microseconds'],
  ['--cpu-rt-runtime <int>', 'Limit CPU real-time runtime in microseconds'],
  ['-c, --cpu-shares <int>', 'CPU shares (relative weight)'],
  ['--cpus <decimal>', 'Number of CPUs'],
  ['--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)'],
  ['--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)'],
  ['--device <list>', 'Add a host device to the container', 'list'],
  ['--device-cgroup-rule <list>', 'Add a rule to the cgroup allowed devices list', 'list'],
  ['--device-read-bps <list>', 'Limit read rate (bytes per second) from a device (default [])', 'list'],
  ['--device-read-iops <list>', 'Limit read rate (IO per second) from a device (default [])', 'list'],
  ['--device-write-bps <list>', 'Limit write rate (bytes per second) to a device (default [])', 'list'],
  ['--device-write-iops <list>', 'Limit write rate (IO per second) to a device (default [])', 'list'],
  ['--group-add <list>', 'Add additional groups to join', 'list'],
  ['--health-cmd <string>', 'Command to run to check health'],
  ['--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)'],
  ['--health-retries <int>', 'Consecutive failures needed to report unhealthy'],
  ['--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h) (default 0s)'],
  ['--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)'],
  ['--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)'],
  ['--kernel-memory <bytes>', 'Kernel memory limit'],
  ['-m, --memory <bytes>', 'Memory limit'],
  ['--memory-reservation <bytes>', 'Memory soft limit'],
  ['--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"],
  ['--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)', undefined, '-1'],
  ['--no-healthcheck', 'Disable any container-specified HEALTHCHECK'],
  ['--oom-kill-disable', 'Disable OOM Killer'],
  ['--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)"],
  ['--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)'],
  ['--security-opt <list>', 'Security Options', 'list'],
  ['--shm-size <bytes>', 'Size of /dev/shm'],
  ['--sysctl <map>', 'Sysctl options (default map[])', 'list'],
  ['--ulimit <ulimit>', 'Ulimit options (default [])', 'list'],
  ['--userns <string>', 'User namespace to use'],
]

/** docker update's flags (cli/command/container/update.go); --kernel-memory is hidden there. */
const updateOpts: OptSpec[] = [
  ['--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)'],
  ['--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period'],
  ['--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota'],
  ['--cpu-rt-period <int>', 'Limit the CPU real-time period in microseconds'],
  ['--cpu-rt-runtime <int>', 'Limit the CPU real-time runtime in microseconds'],
  ['-c, --cpu-shares <int>', 'CPU shares (relative weight)'],
  ['--cpus <decimal>', 'Number of CPUs'],
  ['--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)'],
  ['--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)'],
  ['--kernel-memory <bytes>', 'Kernel memory limit (deprecated)', 'hidden'],
  ['-m, --memory <bytes>', 'Memory limit'],
  ['--memory-reservation <bytes>', 'Memory soft limit'],
  ['--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap'],
  ['--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)'],
  ['--restart <string>', 'Restart policy to apply when a container exits'],
]

const runOpts: OptSpec[] = [
  ['--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', 'list'],
  ['--annotation <map>', 'Add an annotation to the container (passed through to the OCI runtime) (default map[])', 'list'],
  ['-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR', 'list'],
  ['--cidfile <string>', 'Write the container ID to the file'],
  ['--cap-add <list>', 'Add Linux capabilities', 'list'],
  ['--cap-drop <list>', 'Drop Linux capabilities', 'list'],
  ['--dns <list>', 'Set custom DNS servers', 'list'],
  ['--dns-option <list>', 'Set DNS options', 'list'],
  ['--dns-opt <list>', 'Set DNS options', 'hiddenlist'],
  ['--dns-search <list>', 'Set custom DNS search domains', 'list'],
  ['--domainname <string>', 'Container NIS domain name'],
  ['--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image'],
  ['-e, --env <list>', 'Set environment variables', 'list'],
  ['--env-file <list>', 'Read in a file of environment variables', 'list'],
  ['--expose <list>', 'Expose a port or a range of ports', 'list'],
  ['--gpus <gpu-request>', "GPU devices to add to the container ('all' to pass all GPUs)", 'list'],
  ['-h, --hostname <string>', 'Container host name'],
  ['--init', 'Run an init inside the container that forwards signals and reaps processes'],
  ['-i, --interactive', 'Keep STDIN open even if not attached'],
  ['--ip <string>', 'IPv4 address (e.g., 172.30.100.104)'],
  ['--ip6 <string>', 'IPv6 address (e.g., 2001:db8::33)'],
  ['--ipc <string>', 'IPC mode to use'],
  ['--isolation <string>', 'Container isolation technology'],
  ['-l, --label <list>', 'Set meta data on a container', 'list'],
  ['--label-file <list>', 'Read in a line delimited file of labels', 'list'],
  ['--log-driver <string>', 'Logging driver for the container'],
  ['--log-opt <list>', 'Log driver options', 'list'],
  ['--link <list>', 'Add link to another container', 'list'],
  ['--link-local-ip <list>', 'Container IPv4/IPv6 link-local addresses', 'list'],
  ['--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'],
  ['--name <string>', 'Assign a name to the container'],
  ['--network <network>', 'Connect a container to a network', 'list'],
  ['--net <network>', 'Connect a container to a network', 'hiddenlist'],
  ['--network-alias <list>', 'Add network-scoped alias for the container', 'list'],
  ['--net-alias <list>', 'Add network-scoped alias for the container', 'hiddenlist'],
  ['--pid <string>', 'PID namespace to use'],
  ['--platform <string>', 'Set platform if server is multi-platform capable'],
  ['--privileged', 'Give extended privileges to this container'],
  ['-p, --publish <list>', "Publish a container's port(s) to the host", 'list'],
  ['-P, --publish-all', 'Publish all exposed ports to random ports'],
  ['--pull <string>', 'Pull image before running ("always", "missing", "never")', undefined, 'missing'],
  ['-q, --quiet', 'Suppress the pull output'],
  ['--read-only', "Mount the container's root filesystem as read only"],
  ['--restart <string>', 'Restart policy to apply when a container exits', undefined, 'no'],
  ['--rm', 'Automatically remove the container and its associated anonymous volumes when it exits'],
  ['--runtime <string>', 'Runtime to use for this container'],
  ['--stop-signal <string>', 'Signal to stop the container'],
  ['--stop-timeout <int>', 'Timeout (in seconds) to stop a container'],
  ['--storage-opt <list>', 'Storage driver options for the container', 'list'],
  ['-t, --tty', 'Allocate a pseudo-TTY'],
  ['-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])'],
  ['--use-api-socket', 'Bind mount Docker API socket and required auth'],
  ['--uts <string>', 'UTS namespace to use'],
  ['-v, --volume <list>', 'Bind mount a volume', 'list'],
  ['--volume-driver <string>', 'Optional volume driver for the container'],
  ['--mount <mount>', 'Attach a filesystem mount to the container', 'list'],
  ['--volumes-from <list>', 'Mount volumes from the specified container(s)', 'list'],
  ['--tmpfs <list>', 'Mount a tmpfs directory', 'list'],
  ['-w, --workdir <string>', 'Working directory inside the container'],
  ...resourceRunOpts,
]

const runOnlyOpts: OptSpec[] = [
  ['-d, --detach', 'Run container in background and print container ID'],
  ['--detach-keys <string>', 'Override the key sequence for detaching a container'],
  ['--sig-proxy [bool]', 'Proxy received signals to the process', 'optbool', true],
]

const psOpts: OptSpec[] = [
  ['-a, --all', 'Show all containers (default shows just running)'],
  ['-f, --filter <filter>', 'Filter output based on conditions provided', 'list'],
  ['--format <string>', FORMAT_TABLE],
  ['-n, --last <int>', 'Show n last created containers (includes all states)', undefined, '-1'],
  ['-l, --latest', 'Show the latest created container (includes all states)'],
  ['--no-trunc', "Don't truncate output"],
  ['-q, --quiet', 'Only display container IDs'],
  ['-s, --size', 'Display total file sizes'],
]

const imagesOpts: OptSpec[] = [
  ['-a, --all', 'Show all images (default hides intermediate images)'],
  ['--digests', 'Show digests'],
  ['-f, --filter <filter>', 'Filter output based on conditions provided', 'list'],
  ['--format <string>', FORMAT_TABLE],
  ['--no-trunc', "Don't truncate output"],
  ['-q, --quiet', 'Only show image IDs'],
  ['--tree', 'List multi-platform images as a tree (EXPERIMENTAL)'],
]

const contexts = (): Promise<Record<string, unknown>> => import('./commands/context.js')
const container = (): Promise<Record<string, unknown>> => import('./commands/container.js')
const image = (): Promise<Record<string, unknown>> => import('./commands/image.js')
const system = (): Promise<Record<string, unknown>> => import('./commands/system.js')
const run = (): Promise<Record<string, unknown>> => import('./commands/run.js')
const io = (): Promise<Record<string, unknown>> => import('./commands/exec.js')
const login = (): Promise<Record<string, unknown>> => import('./commands/login.js')
const commit = (): Promise<Record<string, unknown>> => import('./commands/commit.js')
const buildCmd = (): Promise<Record<string, unknown>> => import('./commands/build.js')
const network = (): Promise<Record<string, unknown>> => import('./commands/network.js')
const volume = (): Promise<Record<string, unknown>> => import('./commands/volume.js')
const cp = (): Promise<Record<string, unknown>> => import('./commands/cp.js')
const updateCmd = (): Promise<Record<string, unknown>> => import('./commands/update.js')
const check = (): Promise<Record<string, unknown>> => import('./commands/check.js')
const plugin = (): Promise<Record<string, unknown>> => import('./commands/plugin.js')

/** docker's legacy-builder `build` flags (BuildKit-only ones hidden: the command refuses them). */
const buildOpts: OptSpec[] = [
  ['--add-host <list>', 'Add a custom host-to-IP mapping ("host:ip")', 'list'],
  ['--build-arg <list>', 'Set build-time variables', 'list'],
  ['--cache-from <strings>', 'Images to consider as cache sources', 'list'],
  ['--cgroup-parent <string>', 'Set the parent cgroup for the "RUN" instructions during build'],
  ['--compress', 'Compress the build context using gzip'],
  ['--cpu-period <int>', 'Limit the CPU CFS (Completely Fair Scheduler) period'],
  ['--cpu-quota <int>', 'Limit the CPU CFS (Completely Fair Scheduler) quota'],
  ['-c, --cpu-shares <int>', 'CPU shares (relative weight)'],
  ['--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)'],
  ['--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)'],
  ['--disable-content-trust [bool]', 'Skip image verification', 'optbool', true],
  ['-f, --file <string>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")'],
  ['--force-rm', 'Always remove intermediate containers'],
  ['--iidfile <string>', 'Write the image ID to the file'],
  ['--isolation <string>', 'Container isolation technology'],
  ['--label <list>', 'Set metadata for an image', 'list'],
  ['-m, --memory <bytes>', 'Memory limit'],
  ['--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap'],
  ['--network <string>', 'Set the networking mode for the RUN instructions during build', undefined, 'default'],
  ['--no-cache', 'Do not use cache when building the image'],
  ['--platform <string>', 'Set platform if server is multi-platform capable'],
  ['--pull', 'Always attempt to pull a newer version of the image'],
  ['-q, --quiet', 'Suppress the build output and print image ID on success'],
  ['--rm [bool]', 'Remove intermediate containers after a successful build', 'optbool', true],
  ['--security-opt <strings>', 'Security options', 'list'],
  ['--shm-size <bytes>', 'Size of "/dev/shm"'],
  ['--squash', 'Squash newly built layers into a single new layer', 'hidden'],
  ['-t, --tag <list>', 'Name and optionally a tag in the "name:tag" format', 'list'],
  ['--target <string>', 'Set the target build stage to build.'],
  ['--ulimit <ulimit>', 'Ulimit options (default [])', 'list'],
  ['--progress <string>', 'BuildKit only', 'hidden'],
  ['--secret <string>', 'BuildKit only', 'hidden'],
  ['--ssh <string>', 'BuildKit only', 'hidden'],
  ['-o, --output <string>', 'BuildKit only', 'hidden'],
]

/** docker network create's flags; map flags show pflag's empty default. */
const networkCreateOpts: OptSpec[] = [
  ['--attachable', 'Enable manual container attachment'],
  ['--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])', 'list'],
  ['--config-from <string>', 'The network from which to copy the configuration'],
  ['--config-only', 'Create a configuration only network'],
  ['-d, --driver <string>', 'Driver to manage the Network', undefined, 'bridge'],
  ['--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', 'list'],
  ['--ingress', 'Create swarm routing-mesh network'],
  ['--internal', 'Restrict external access to the network'],
  ['--ip-range <strings>', 'Allocate container ip from a sub-range', 'list'],
  ['--ipam-driver <string>', 'IP Address Management Driver', undefined, 'default'],
  ['--ipam-opt <map>', 'Set IPAM driver specific options (default map[])', 'list'],
  // No default, so an absent flag stays undefined and is not sent; help still says docker's default.
  ['--ipv4 [bool]', 'Enable or disable IPv4 address assignment (default true)', 'optbool'],
  ['--ipv6 [bool]', 'Enable or disable IPv6 address assignment', 'optbool'],
  ['--label <list>', 'Set metadata on a network', 'list'],
  ['-o, --opt <map>', 'Set driver specific options (default map[])', 'list'],
  ['--scope <string>', "Control the network's scope"],
  ['--subnet <strings>', 'Subnet in CIDR format that represents a network segment', 'list'],
]

/** docker volume create's flags; the cluster-volume ones are hidden as docker hides them on a node that is no swarm manager. */
const volumeCreateOpts: OptSpec[] = [
  ['-d, --driver <string>', 'Specify volume driver name', undefined, 'local'],
  ['--label <list>', 'Set metadata for a volume', 'list'],
  ['--name <string>', 'Specify volume name', 'hidden'],
  ['-o, --opt <map>', 'Set driver specific options (default map[])', 'list'],
  ['--availability <string>', 'Cluster Volume availability ("active", "pause", "drain")', 'hidden'],
  ['--group <string>', 'Cluster Volume group (cluster volumes)', 'hidden'],
  ['--limit-bytes <bytes>', 'Minimum size of the Cluster Volume in bytes', 'hidden'],
  ['--required-bytes <bytes>', 'Maximum size of the Cluster Volume in bytes', 'hidden'],
  ['--scope <string>', 'Cluster Volume access scope ("single", "multi")', 'hidden'],
  ['--secret <map>', 'Cluster Volume secrets', 'hiddenlist'],
  ['--sharing <string>', 'Cluster Volume access sharing ("none", "readonly", "onewriter", "all")', 'hidden'],
  ['--topology-preferred <list>', 'A topology that the Cluster Volume would be preferred in', 'hiddenlist'],
  ['--topology-required <list>', 'A topology that the Cluster Volume must be accessible from', 'hiddenlist'],
  ['--type <string>', 'Cluster Volume access type ("mount", "block")', 'hidden'],
]

const networkConnectOpts: OptSpec[] = [
  ['--alias <strings>', 'Add network-scoped alias for the container', 'list'],
  ['--driver-opt <strings>', 'driver options for the network', 'list'],
  ['--gw-priority <int>', 'Highest gw-priority provides the default gateway. Accepts positive and negative values.'],
  ['--ip <string>', 'IPv4 address (e.g., "172.30.100.104")'],
  ['--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")'],
  ['--link <list>', 'Add link to another container', 'list'],
  ['--link-local-ip <strings>', 'Add a link-local address for the container', 'list'],
]

const specs: Record<string, CmdSpec> = {
  run: { use: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]', short: 'Create and run a new container from an image', args: [1, -1], opts: [...runOpts, ...runOnlyOpts], interspersed: false, load: run, fn: 'runCommand' },
  create: { use: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', short: 'Create a new container', args: [1, -1], opts: runOpts.map((o): OptSpec => (o[0].startsWith('--pull ') ? [o[0], 'Pull image before creating ("always", "|missing", "never")', o[2], o[3]] : o)), interspersed: false, load: run, fn: 'createCommand' },
  start: { use: 'start [OPTIONS] CONTAINER [CONTAINER...]', short: 'Start one or more stopped containers', args: [1, -1], opts: [['-a, --attach', 'Attach STDOUT/STDERR and forward signals'], ['--detach-keys <string>', 'Override the key sequence for detaching a container'], ['-i, --interactive', "Attach container's STDIN"]], load: io, fn: 'startCommand' },
  stop: { use: 'stop [OPTIONS] CONTAINER [CONTAINER...]', short: 'Stop one or more running containers', args: [1, -1], opts: [['-s, --signal <string>', 'Signal to send to the container'], ['-t, --timeout <int>', 'Seconds to wait before killing the container'], ['--time <int>', 'Seconds to wait before killing the container (deprecated: use --timeout)', 'hidden']], load: container, fn: 'stopCommand' },
  kill: { use: 'kill [OPTIONS] CONTAINER [CONTAINER...]', short: 'Kill one or more running containers', args: [1, -1], opts: [['-s, --signal <string>', 'Signal to send to the container']], load: container, fn: 'killCommand' },
  restart: { use: 'restart [OPTIONS] CONTAINER [CONTAINER...]', short: 'Restart one or more containers', args: [1, -1], opts: [['-s, --signal <string>', 'Signal to send to the container'], ['-t, --timeout <int>', 'Seconds to wait before killing the container'], ['--time <int>', 'Seconds to wait before killing the container (deprecated: use --timeout)', 'hidden']], load: container, fn: 'restartCommand' },
  pause: { use: 'pause CONTAINER [CONTAINER...]', short: 'Pause all processes within one or more containers', args: [1, -1], load: container, fn: 'pauseCommand' },
  unpause: { use: 'unpause CONTAINER [CONTAINER...]', short: 'Unpause all processes within one or more containers', args: [1, -1], load: container, fn: 'unpauseCommand' },
  update: { use: 'update [OPTIONS] CONTAINER [CONTAINER...]', short: 'Update configuration of one or more containers', args: [1, -1], opts: updateOpts, load: updateCmd, fn: 'updateCommand' },
  rm: { use: 'rm [OPTIONS] CONTAINER [CONTAINER...]', short: 'Remove one or more containers', args: [1, -1], opts: [['-f, --force', 'Force the removal of a running container (uses SIGKILL)'], ['-l, --link', 'Remove the specified link'], ['-v, --volumes', 'Remove anonymous volumes associated with the container']], load: container, fn: 'rmCommand' },
  ps: { use: 'ps [OPTIONS]', short: 'List containers', args: [0, 0], opts: psOpts, load: container, fn: 'psCommand' },
  wait: { use: 'wait CONTAINER [CONTAINER...]', short: 'Block until one or more containers stop, then print their exit codes', args: [1, -1], load: container, fn: 'waitCommand' },
  attach: { use: 'attach [OPTIONS] CONTAINER', short: 'Attach local standard input, output, and error streams to a running container', args: [1, 1], opts: [['--detach-keys <string>', 'Override the key sequence for detaching a container'], ['--no-stdin', 'Do not attach STDIN'], ['--sig-proxy [bool]', 'Proxy all received signals to the process', 'optbool', true]], load: io, fn: 'attachCommand' },
  exec: { use: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]', short: 'Execute a command in a running container', args: [2, -1], interspersed: false, opts: [['-d, --detach', 'Detached mode: run command in the background'], ['--detach-keys <string>', 'Override the key sequence for detaching a container'], ['-e, --env <list>', 'Set environment variables', 'list'], ['--env-file <list>', 'Read in a file of environment variables', 'list'], ['-i, --interactive', 'Keep STDIN open even if not attached'], ['--privileged', 'Give extended privileges to the command'], ['-t, --tty', 'Allocate a pseudo-TTY'], ['-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")'], ['-w, --workdir <string>', 'Working directory inside the container']], load: io, fn: 'execCommand' },
  logs: { use: 'logs [OPTIONS] CONTAINER', short: 'Fetch the logs of a container', args: [1, 1], opts: [['--details', 'Show extra details provided to logs'], ['-f, --follow', 'Follow log output'], ['--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'], ['-n, --tail <string>', 'Number of lines to show from the end of the logs', undefined, 'all'], ['-t, --timestamps', 'Show timestamps'], ['--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)']], load: io, fn: 'logsCommand' },
  top: { use: 'top CONTAINER [ps OPTIONS]', short: 'Display the running processes of a container', args: [1, -1], interspersed: false, load: container, fn: 'topCommand' },
  stats: { use: 'stats [OPTIONS] [CONTAINER...]', short: 'Display a live stream of container(s) resource usage statistics', args: [0, -1], opts: [['-a, --all', 'Show all containers (default shows just running)'], ['--format <string>', FORMAT_TABLE], ['--no-stream', 'Disable streaming stats and only pull the first result'], ['--no-trunc', 'Do not truncate output']], load: () => import('./commands/stats.js'), fn: 'statsCommand' },
  rename: { use: 'rename CONTAINER NEW_NAME', short: 'Rename a container', args: [2, 2], load: container, fn: 'renameCommand' },
  port: { use: 'port CONTAINER [PRIVATE_PORT[/PROTO]]', short: 'List port mappings or a specific mapping for the container', args: [1, 2], load: network, fn: 'portCommand' },
  inspect: { use: 'inspect [OPTIONS] NAME|ID [NAME|ID...]', short: 'Return low-level information on berth objects', args: [1, -1], opts: [['-f, --format <string>', FORMAT_JSON], ['-s, --size', 'Display total file sizes if the type is container'], ['--type <string>', 'Only inspect objects of the given type']], load: container, fn: 'inspectCommand' },
  containerInspect: { use: 'inspect [OPTIONS] CONTAINER [CONTAINER...]', short: 'Display detailed information on one or more containers', args: [1, -1], opts: [['-f, --format <string>', FORMAT_JSON], ['-s, --size', 'Display total file sizes']], load: container, fn: 'inspectCommand' },
  imageInspect: { use: 'inspect [OPTIONS] IMAGE [IMAGE...]', short: 'Display detailed information on one or more images', args: [1, -1], opts: [['-f, --format <string>', FORMAT_JSON], ['--platform <string>', "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)"]], load: container, fn: 'inspectCommand' },
  events: { use: 'events [OPTIONS]', short: 'Get real time events from the server', args: [0, 0], opts: [['-f, --filter <filter>', 'Filter output based on conditions provided', 'list'], ['--format <string>', FORMAT_JSON], ['--since <string>', 'Show all events created since timestamp'], ['--until <string>', 'Stream events until this timestamp']], load: system, fn: 'eventsCommand' },
  images: { use: 'images [OPTIONS] [REPOSITORY[:TAG]]', short: 'List images', args: [0, 1], opts: imagesOpts, load: image, fn: 'imagesCommand' },
  rmi: { use: 'rmi [OPTIONS] IMAGE [IMAGE...]', short: 'Remove one or more images', args: [1, -1], opts: [['-f, --force', 'Force removal of the image'], ['--no-prune', 'Do not delete untagged parents'], ['--platform <strings>', 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")', 'list']], load: image, fn: 'rmiCommand' },
  tag: { use: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', args: [2, 2], load: image, fn: 'tagCommand' },
  history: { use: 'history [OPTIONS] IMAGE', short: 'Show the history of an image', args: [1, 1], opts: [['--format <string>', FORMAT_TABLE], ['-H, --human [bool]', 'Print sizes and dates in human readable format', 'optbool', true], ['--no-trunc', "Don't truncate output"], ['--platform <string>', 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")'], ['-q, --quiet', 'Only show image IDs']], load: image, fn: 'historyCommand' },
  import: { use: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]', short: 'Import the contents from a tarball to create a filesystem image', args: [1, -1], opts: [['-c, --change <list>', 'Apply Dockerfile instruction to the created image', 'list'], ['-m, --message <string>', 'Set commit message for imported image'], ['--platform <string>', 'Set platform if server is multi-platform capable']], load: image, fn: 'importCommand' },
  save: { use: 'save [OPTIONS] IMAGE [IMAGE...]', short: 'Save one or more images to a tar archive (streamed to STDOUT by default)', args: [1, -1], opts: [['-o, --output <string>', 'Write to a file, instead of STDOUT'], ['--platform <string>', 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")']], load: image, fn: 'saveCommand' },
  load: { use: 'load [OPTIONS]', short: 'Load an image from a tar archive or STDIN', args: [0, 0], opts: [['-i, --input <string>', 'Read from tar archive file, instead of STDIN'], ['--platform <string>', 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")'], ['-q, --quiet', 'Suppress the load output']], load: image, fn: 'loadCommand' },
  pull: { use: 'pull [OPTIONS] NAME[:TAG|@DIGEST]', short: 'Download an image from a registry', args: [1, 1], opts: [['-a, --all-tags', 'Download all tagged images in the repository'], ['--disable-content-trust [bool]', 'Skip image verification', 'optbool', true], ['--platform <string>', 'Set platform if server is multi-platform capable'], ['-q, --quiet', 'Suppress verbose output']], load: image, fn: 'pullCommand' },
  push: { use: 'push [OPTIONS] NAME[:TAG]', short: 'Upload an image to a registry', args: [1, 1], opts: [['-a, --all-tags', 'Push all tags of an image to the repository'], ['--disable-content-trust [bool]', 'Skip image signing', 'optbool', true], ['--platform <string>', 'Push a platform-specific manifest as a single-platform image to the registry'], ['-q, --quiet', 'Suppress verbose output']], load: image, fn: 'pushCommand' },
  version: { use: 'version [OPTIONS]', short: 'Show the berth version information', args: [0, 0], opts: [['-f, --format <string>', FORMAT_JSON]], load: system, fn: 'versionCommand' },
  info: { use: 'info [OPTIONS]', short: 'Display system-wide information', args: [0, 0], opts: [['-f, --format <string>', FORMAT_JSON]], load: system, fn: 'infoCommand' },
  containerPrune: { use: 'prune [OPTIONS]', short: 'Remove all stopped containers', args: [0, 0], opts: [['--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', 'list'], ['-f, --force', 'Do not prompt for confirmation']], load: container, fn: 'containerPruneCommand' },
  imagePrune: { use: 'prune [OPTIONS]', short: 'Remove unused images', args: [0, 0], opts: [['-a, --all', 'Remove all unused images, not just dangling ones'], ['--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', 'list'], ['-f, --force', 'Do not prompt for confirmation']], load: image, fn: 'imagePruneCommand' },
  login: { use: 'login [OPTIONS] [SERVER]', short: 'Authenticate to a registry', args: [0, 1], opts: [['-p, --password <string>', 'Password or Personal Access Token (PAT)'], ['--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin'], ['-u, --username <string>', 'Username']], load: login, fn: 'loginCommand' },
  commit: { use: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]', short: "Create a new image from a container's changes", args: [1, 2], opts: [['-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'], ['-c, --change <list>', 'Apply Dockerfile instruction to the created image', 'list'], ['-m, --message <string>', 'Commit message'], ['-p, --pause [bool]', 'Pause container during commit', 'optbool', true]], interspersed: false, load: commit, fn: 'commitCommand' },
  diff: { use: 'diff CONTAINER', short: "Inspect changes to files or directories on a container's filesystem", args: [1, 1], load: commit, fn: 'diffCommand' },
  logout: { use: 'logout [SERVER]', short: 'Log out from a registry', args: [0, 1], load: login, fn: 'logoutCommand' },
  build: { use: 'build [OPTIONS] PATH | URL | -', short: 'Build an image from a Dockerfile', args: [1, 1], opts: buildOpts, load: buildCmd, fn: 'buildCommand' },
  builderPrune: { use: 'prune', short: 'Remove build cache', args: [0, 0], opts: [['-a, --all', 'Remove all unused build cache, not just dangling ones'], ['--filter <filter>', 'Provide filter values (e.g. "until=24h")', 'list'], ['-f, --force', 'Do not prompt for confirmation'], ['--keep-storage <bytes>', 'Amount of disk space to keep for cache']], load: buildCmd, fn: 'builderPruneCommand' },
  networkLs: { use: 'ls [OPTIONS]', short: 'List networks', args: [0, 0], opts: [['-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', 'list'], ['--format <string>', FORMAT_TABLE], ['--no-trunc', 'Do not truncate the output'], ['-q, --quiet', 'Only display network IDs']], load: network, fn: 'networkLsCommand' },
  networkInspect: { use: 'inspect [OPTIONS] NETWORK [NETWORK...]', short: 'Display detailed information on one or more networks', args: [1, -1], opts: [['-f, --format <string>', FORMAT_JSON], ['-v, --verbose', 'Verbose output for diagnostics']], load: network, fn: 'networkInspectCommand' },
  networkCreate: { use: 'create [OPTIONS] NETWORK', short: 'Create a network', args: [1, 1], opts: networkCreateOpts, load: network, fn: 'networkCreateCommand' },
  networkRm: { use: 'rm NETWORK [NETWORK...]', short: 'Remove one or more networks', args: [1, -1], opts: [['-f, --force', 'Do not error if the network does not exist']], load: network, fn: 'networkRmCommand' },
  networkConnect: { use: 'connect [OPTIONS] NETWORK CONTAINER', short: 'Connect a container to a network', args: [2, 2], opts: networkConnectOpts, load: network, fn: 'networkConnectCommand' },
  networkDisconnect: { use: 'disconnect [OPTIONS] NETWORK CONTAINER', short: 'Disconnect a container from a network', args: [2, 2], opts: [['-f, --force', 'Force the container to disconnect from a network']], load: network, fn: 'networkDisconnectCommand' },
  networkPrune: { use: 'prune [OPTIONS]', short: 'Remove all unused networks', args: [0, 0], opts: [['--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', 'list'], ['-f, --force', 'Do not prompt for confirmation']], load: network, fn: 'networkPruneCommand' },
  volumeCreate: { use: 'create [OPTIONS] [VOLUME]', short: 'Create a volume', args: [0, 1], opts: volumeCreateOpts, load: volume, fn: 'volumeCreateCommand' },
  volumeInspect: { use: 'inspect [OPTIONS] VOLUME [VOLUME...]', short: 'Display detailed information on one or more volumes', args: [1, -1], opts: [['-f, --format <string>', FORMAT_JSON]], load: volume, fn: 'volumeInspectCommand' },
  contextCreate: { use: 'create [OPTIONS] CONTEXT', short: 'Create a context', args: [1, 1], opts: [['--description <string>', 'Description of the context'], ['--docker <stringToString>', 'set the docker endpoint (default [])'], ['--from <string>', 'create context from a named context']], load: contexts, fn: 'contextCreateCommand' },
  contextInspect: { use: 'inspect [OPTIONS] [CONTEXT] [CONTEXT...]', short: 'Display detailed information on one or more contexts', args: [0, -1], opts: [['-f, --format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template."]], load: contexts, fn: 'contextInspectCommand' },
  contextLs: { use: 'ls [OPTIONS]', short: 'List contexts', args: [0, 0], opts: [['--format <string>', FORMAT_TABLE], ['-q, --quiet', 'Only show context names']], load: contexts, fn: 'contextLsCommand' },
  contextRm: { use: 'rm CONTEXT [CONTEXT...]', short: 'Remove one or more contexts', args: [1, -1], opts: [['-f, --force', 'Force the removal of a context in use']], load: contexts, fn: 'contextRmCommand' },
  contextShow: { use: 'show', short: 'Print the name of the current context', args: [0, 0], opts: [], load: contexts, fn: 'contextShowCommand' },
  contextUpdate: { use: 'update [OPTIONS] CONTEXT', short: 'Update a context', args: [1, 1], opts: [['--description <string>', 'Description of the context'], ['--docker <stringToString>', 'set the docker endpoint (default [])']], load: contexts, fn: 'contextUpdateCommand' },
  contextUse: { use: 'use CONTEXT', short: 'Set the current docker context', args: [1, 1], opts: [], load: contexts, fn: 'contextUseCommand' },
  volumeLs: { use: 'ls [OPTIONS]', short: 'List volumes', args: [0, 0], opts: [['--cluster', 'Display only cluster volumes, and use cluster volume list formatting', 'hidden'], ['-f, --filter <filter>', 'Provide filter values (e.g. "dangling=true")', 'list'], ['--format <string>', FORMAT_TABLE], ['-q, --quiet', 'Only display volume names']], load: volume, fn: 'volumeLsCommand' },
  volumePrune: { use: 'prune [OPTIONS]', short: 'Remove unused local volumes', args: [0, 0], opts: [['-a, --all', 'Remove all unused volumes, not just anonymous ones'], ['--filter <filter>', 'Provide filter values (e.g. "label=<label>")', 'list'], ['-f, --force', 'Do not prompt for confirmation']], load: volume, fn: 'volumePruneCommand' },
  volumeRm: { use: 'rm [OPTIONS] VOLUME [VOLUME...]', short: 'Remove one or more volumes', args: [1, -1], opts: [['-f, --force', 'Force the removal of one or more volumes']], load: volume, fn: 'volumeRmCommand' },
  cp: { use: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH', short: 'Copy files/folders between a container and the local filesystem', args: [2, 2], opts: [['-a, --archive [bool]', 'Archive mode (copy all uid/gid information)', 'optbool'], ['-L, --follow-link [bool]', 'Always follow symbol link in SRC_PATH', 'optbool'], ['-q, --quiet [bool]', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached', 'optbool']], load: cp, fn: 'cpCommand' },
  export: { use: 'export [OPTIONS] CONTAINER', short: "Export a container's filesystem as a tar archive", args: [1, 1], opts: [['-o, --output <string>', 'Write to a file, instead of STDOUT']], load: cp, fn: 'exportCommand' },
  systemDf: { use: 'df [OPTIONS]', short: 'Show berth disk usage', args: [0, 0], opts: [['--format <string>', FORMAT_TABLE], ['-v, --verbose', 'Show detailed information on space usage']], load: system, fn: 'dfCommand' },
  systemCheck: { use: 'check [OPTIONS]', short: "Verify berth's stores and look for leftovers on the host (berth only)", args: [0, 0], opts: [['--format <string>', 'Format output: json'], ['-v, --verbose', 'Also say how many objects of each kind were checked']], load: check, fn: 'systemCheckCommand' },
  systemPrune: { use: 'prune [OPTIONS]', short: 'Remove unused data', args: [0, 0], opts: [['-a, --all', 'Remove all unused images not just dangling ones'], ['--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', 'list'], ['-f, --force', 'Do not prompt for confirmation'], ['--volumes', 'Prune anonymous volumes']], load: system, fn: 'systemPruneCommand' },
  pluginCreate: { use: 'create [OPTIONS] PLUGIN PLUGIN-DATA-DIR', short: 'Create a plugin from a rootfs and configuration. Plugin data directory must contain config.json and rootfs directory.', args: [2, -1], opts: [['--compress', 'Compress the context using gzip']], load: plugin, fn: 'pluginCreateCommand' },
  pluginDisable: { use: 'disable [OPTIONS] PLUGIN', short: 'Disable a plugin', args: [1, 1], opts: [['-f, --force', 'Force the disable of an active plugin']], load: plugin, fn: 'pluginDisableCommand' },
  // No default value, so help prints docker's "(default 30)" rather than a quoted string; the handler applies it.
  pluginEnable: { use: 'enable [OPTIONS] PLUGIN', short: 'Enable a plugin', args: [1, 1], opts: [['--timeout <int>', 'HTTP client timeout (in seconds) (default 30)']], load: plugin, fn: 'pluginEnableCommand' },
  pluginInspect: { use: 'inspect [OPTIONS] PLUGIN [PLUGIN...]', short: 'Display detailed information on one or more plugins', args: [1, -1], opts: [['-f, --format <string>', FORMAT_JSON]], load: plugin, fn: 'pluginInspectCommand' },
  pluginInstall: { use: 'install [OPTIONS] PLUGIN [KEY=VALUE...]', short: 'Install a plugin', args: [1, -1], opts: [['--alias <string>', 'Local name for plugin'], ['--disable', 'Do not enable the plugin on install'], ['--disable-content-trust [bool]', 'Skip image verification', 'optbool', true], ['--grant-all-permissions', 'Grant all permissions necessary to run the plugin']], load: plugin, fn: 'pluginInstallCommand' },
  pluginLs: { use: 'ls [OPTIONS]', short: 'List plugins', args: [0, 0], opts: [['-f, --filter <filter>', 'Provide filter values (e.g. "enabled=true")', 'list'], ['--format <string>', FORMAT_TABLE], ['--no-trunc', "Don't truncate output"], ['-q, --quiet', 'Only display plugin IDs']], load: plugin, fn: 'pluginLsCommand' },
  pluginPush: { use: 'push [OPTIONS] PLUGIN[:TAG]', short: 'Push a plugin to a registry', args: [1, 1], opts: [['--disable-content-trust [bool]', 'Skip image signing', 'optbool', true]], load: plugin, fn: 'pluginPushCommand' },
  pluginRm: { use: 'rm [OPTIONS] PLUGIN [PLUGIN...]', short: 'Remove one or more plugins', args: [1, -1], opts: [['-f, --force', 'Force the removal of an active plugin']], load: plugin, fn: 'pluginRmCommand' },
  pluginSet: { use: 'set PLUGIN KEY=VALUE [KEY=VALUE...]', short: 'Change settings for a plugin', args: [2, -1], load: plugin, fn: 'pluginSetCommand' },
  pluginUpgrade: { use: 'upgrade [OPTIONS] PLUGIN [REMOTE]', short: 'Upgrade an existing plugin', args: [1, 2], opts: [['--disable-content-trust [bool]', 'Skip image verification', 'optbool', true], ['--grant-all-permissions', 'Grant all permissions necessary to run the plugin'], ['--skip-remote-check', 'Do not check if specified remote plugin matches existing plugin image']], load: plugin, fn: 'pluginUpgradeCommand' },
  search: { use: 'search [OPTIONS] TERM', short: 'Search Docker Hub for images', args: [1, 1], opts: [['-f, --filter <filter>', 'Filter output based on conditions provided', 'list'], ['--format <string>', 'Pretty-print search using a Go template'], ['--limit <int>', 'Max number of search results'], ['--no-trunc', "Don't truncate output"]], load: () => import('./commands/search.js'), fn: 'searchCommand' },
}

const shortcuts = ['run', 'create', 'start', 'stop', 'kill', 'restart', 'pause', 'unpause', 'rm', 'ps', 'wait', 'attach', 'exec', 'logs', 'inspect', 'top', 'rename', 'port', 'stats', 'update', 'events', 'images', 'rmi', 'tag', 'history', 'import', 'save', 'load', 'pull', 'push', 'version', 'info', 'login', 'logout', 'search', 'commit', 'diff', 'build', 'cp', 'export']

const groups: Record<string, { short: string; cmds: Record<string, string> }> = {
  container: {
    short: 'Manage containers',
    cmds: { attach: 'attach', commit: 'commit', cp: 'cp', create: 'create', diff: 'diff', exec: 'exec', export: 'export', inspect: 'containerInspect', kill: 'kill', logs: 'logs', ls: 'ps', pause: 'pause', port: 'port', prune: 'containerPrune', rename: 'rename', restart: 'restart', rm: 'rm', run: 'run', start: 'start', stats: 'stats', stop: 'stop', top: 'top', unpause: 'unpause', update: 'update', wait: 'wait' },
  },
  image: {
    short: 'Manage images',
    cmds: { build: 'build', history: 'history', import: 'import', inspect: 'imageInspect', load: 'load', ls: 'images', prune: 'imagePrune', pull: 'pull', push: 'push', rm: 'rmi', save: 'save', tag: 'tag' },
  },
  system: { short: 'Manage berth', cmds: { check: 'systemCheck', df: 'systemDf', events: 'events', info: 'info', prune: 'systemPrune' } },
  builder: { short: 'Manage builds', cmds: { build: 'build', prune: 'builderPrune' } },
  network: {
    short: 'Manage networks',
    cmds: { connect: 'networkConnect', create: 'networkCreate', disconnect: 'networkDisconnect', inspect: 'networkInspect', ls: 'networkLs', prune: 'networkPrune', rm: 'networkRm' },
  },
  context: {
    short: 'Manage contexts',
    cmds: { create: 'contextCreate', inspect: 'contextInspect', ls: 'contextLs', rm: 'contextRm', show: 'contextShow', update: 'contextUpdate', use: 'contextUse' },
  },
  plugin: {
    short: 'Manage plugins',
    cmds: { create: 'pluginCreate', disable: 'pluginDisable', enable: 'pluginEnable', inspect: 'pluginInspect', install: 'pluginInstall', ls: 'pluginLs', push: 'pluginPush', rm: 'pluginRm', set: 'pluginSet', upgrade: 'pluginUpgrade' },
  },
  volume: {
    short: 'Manage volumes',
    cmds: { create: 'volumeCreate', inspect: 'volumeInspect', ls: 'volumeLs', prune: 'volumePrune', rm: 'volumeRm' },
  },
}

/** Aliases docker lists for each command, by "group verb". */
const aliasOf: Record<string, string[]> = {
  'container ls': ['list', 'ps'], 'container rm': ['remove'], 'image ls': ['list'], 'image rm': ['remove'],
  'network ls': ['list'], 'network rm': ['remove'],
  'volume ls': ['list'], 'volume rm': ['remove'],
  'context ls': ['list'], 'context rm': ['remove'],
  'plugin ls': ['list'], 'plugin rm': ['remove'],
}

/** docker's top-level "Common Commands", in docker's order. */
const commonCommands = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'search', 'version', 'info']

/** Help is wrapped at the width of the terminal on stdin, as docker does, less one column. */
function helpWidth(): number {
  return (process.stdin.isTTY ? process.stdout.columns || 80 : 80) - 1
}

/** docker's usage template (cli/cobra.go): Usage, Aliases, Options, Commands, wrapped as pflag wraps. */
class DockerHelp extends Help {
  override formatHelp(cmd: Command, helper: Help): string {
    const spec = (cmd as Command & { _berthUse?: string })._berthUse ?? cmd.name()
    const path = commandPath(cmd)
    const lines: string[] = [`Usage:  ${path.split(' ').slice(0, -1).concat(spec).join(' ')}`, '', cmd.description(), '']
    const aliases = (cmd as Command & { _berthAliases?: string[] })._berthAliases
    if (aliases && aliases.length > 1) lines.push('Aliases:', `  ${aliases.join(', ')}`, '')
    const options = helper.visibleOptions(cmd).filter((o) => o.long !== '--help').sort((x, y) => ((x.long ?? '') < (y.long ?? '') ? -1 : 1))
    let optionText = ''
    if (options.length) {
      const rows: FlagRow[] = options.map((o) => {
        const type = o.required || o.optional ? ` ${/[<[](\w+)[>\]]/.exec(o.flags)?.[1] ?? ''}` : ''
        const left = (o.short ? `  ${o.short}, ${o.long}${type}` : `      ${o.long}${type}`).replace(/ bool$/, '')
        let usage = o.description
        const d: unknown = o.defaultValue
        if (d === '-1') usage += ' (default -1)'
        else if (d === true) usage += ' (default true)'
        else if (typeof d === 'string' && d !== '') usage += ` (default "${d}")`
        return { left, usage }
      })
      optionText = flagUsages(rows, helpWidth())
    }
    const root = !cmd.parent
    if (!root && optionText) lines.push('Options:', optionText)
    const subs = helper.visibleCommands(cmd).filter((c) => c.name() !== 'help')
    const row = (c: Command): string => `  ${c.name().padEnd(12)}${c.description()}`
    if (root) {
      const byName = new Map(subs.map((c) => [c.name(), c]))
      const common = commonCommands.flatMap((n) => byName.get(n) ?? [])
      const management = subs.filter((c) => c.commands.length > 0).sort((x, y) => x.name().localeCompare(y.name()))
      const rest = subs.filter((c) => !common.includes(c) && !management.includes(c)).sort((x, y) => x.name().localeCompare(y.name()))
      lines.push('Common Commands:', ...common.map(row), '', 'Management Commands:', ...management.map(row), '', 'Commands:', ...rest.map(row), '')
      if (optionText) lines.push('Global Options:', optionText, '')
    } else if (subs.length) {
      lines.push('Commands:', ...subs.map(row), '')
    }
    if (subs.length) lines.push(`Run '${path} COMMAND --help' for more information on a command.`, '')
    return lines.join('\n')
  }
}

export function commandPath(cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

/** Raised to end the program with a status and an already-printed message. */
export class ExitError extends Error {
  constructor(readonly code: number, message = '') {
    super(message)
  }
}

/** Commander must not print its own errors: commanderErrorStatus prints docker's. */
function quiet(cmd: Command): Command {
  // Help shown for a bare group still goes to stderr, as docker's does.
  return cmd.exitOverride().showSuggestionAfterError(false).configureOutput({ outputError: () => {} })
}

function addOption(cmd: Command, [flags, desc, kind, def]: OptSpec): void {
  const o = new Option(flags, desc)
  const name = o.short ? `${o.short}, ${o.long ?? ''}` : o.long ?? ''
  const check = o.required || o.optional ? valueCheck(o.long ?? '', flags) : undefined
  const validate = (v: string): void => {
    const problem = check?.(v)
    if (problem) throw new InvalidArgumentError(flagValueError(name, v, problem))
  }
  if (kind === 'list' || kind === 'hiddenlist') o.argParser((v: string, prev?: string[]) => { validate(v); return list(v, prev) })
  else if (kind === 'optbool') o.argParser((v: string) => parseGoBool(v, name))
  else if (check) o.argParser((v: string) => { validate(v); return v })
  if (kind === 'hidden' || kind === 'hiddenlist') o.hideHelp()
  if (def !== undefined) o.default(def)
  cmd.addOption(o)
}

/** pflag's message for a flag value its type or validator rejects. */
export function flagValueError(flag: string, value: string, problem: string): string {
  return `invalid argument "${value}" for "${flag}" flag: ${problem}`
}

/** Go's strconv.ParseBool, as pflag parses `--flag=value` of a bool flag. */
export function parseGoBool(v: string, flag: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  throw new InvalidArgumentError(flagValueError(flag, v, `strconv.ParseBool: parsing "${v}": invalid syntax`))
}

/** A value validator that throws (opts.ts) as valueCheck's "what is wrong" function. */
function problemOf(validate: (v: string) => unknown): (v: string) => string | undefined {
  return (v) => {
    try {
      validate(v)
      return undefined
    } catch (e) {
      return (e as Error).message
    }
  }
}

/** What is wrong with a flag's value, checked while parsing as docker's flag types do; undefined if nothing. */
function valueCheck(long: string, flags: string): ((v: string) => string | undefined) | undefined {
  const resourceCheck = resourceValueCheck(long)
  if (resourceCheck) return resourceCheck
  if (flags.includes('<int>')) {
    return (v) => (/^[+-]?(\d+|0[xX][\da-fA-F]+)$/.test(v) ? undefined : `strconv.ParseInt: parsing "${v}": invalid syntax`)
  }
  switch (long) {
    case '--env':
      return (v) => (v.startsWith('=') ? `invalid environment variable: ${v}` : undefined)
    case '--attach':
      return (v) => (['stdin', 'stdout', 'stderr'].includes(v.toLowerCase()) ? undefined : 'valid streams are STDIN, STDOUT and STDERR')
    case '--filter':
      return (v) => (v.includes('=') ? undefined : 'bad format of filter (expected name=value)')
    case '--dns':
      return problemOf(validateIpAddress)
    case '--dns-search':
      return problemOf(validateDnsSearch)
    case '--add-host':
      return problemOf(validateExtraHost)
    case '--link':
      return problemOf(validateLink)
    case '--label':
      return problemOf(validateLabel)
    case '--network':
    case '--net':
      // run's network flag (docker's NetworkOpt); build's --network is a plain string.
      return flags.includes('<network>') ? problemOf(parseNetworkOpt) : undefined
    default:
      return undefined
  }
}

/**
 * commander, unlike pflag, reads `-H=false` as the value "=false". Rewrites
 * such shorthand options to commander's attached form (`-Hfalse`) without
 * touching option values or, for commands that stop at the first positional,
 * the container's command line.
 */
export function rewriteShortEquals(argv: readonly string[], takesValue: (flag: string) => boolean | undefined, interspersed: boolean, optionalBool: (flag: string) => boolean = () => false): string[] {
  const out = [...argv]
  for (let i = 0; i < out.length; i++) {
    const a = out[i] ?? ''
    if (a === '--') break
    if (a.startsWith('--')) {
      // pflag's bool flags never take the next word; commander's [bool] would.
      if (!a.includes('=') && optionalBool(a)) out[i] = `${a}=true`
      else if (!a.includes('=') && takesValue(a)) i++
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      const m = /^-([A-Za-z])=(.*)$/s.exec(a)
      if (m) out[i] = `-${m[1] ?? ''}${m[2] ?? ''}`
      else if (a.length === 2 && optionalBool(a)) out[i] = `${a}true`
      else if (a.length === 2 && takesValue(a)) i++
      continue
    }
    if (!interspersed) break
  }
  return out
}

/** A commander Command whose option parsing accepts pflag's `-X=value`. */
class DockerCommand extends Command {
  override parseOptions(argv: string[]): { operands: string[]; unknown: string[] } {
    const takesValue = (flag: string): boolean | undefined => {
      const o = this.options.find((x) => x.short === flag || x.long === flag)
      return o ? o.required : undefined
    }
    const optionalBool = (flag: string): boolean => this.options.some((x) => (x.short === flag || x.long === flag) && x.optional)
    // The program itself (positional options) stops at the subcommand's name, as pass-through commands stop at their first operand.
    const self = this as unknown as { _passThroughOptions?: boolean; _enablePositionalOptions?: boolean }
    const interspersed = !self._passThroughOptions && !self._enablePositionalOptions
    return super.parseOptions(rewriteShortEquals(argv, takesValue, interspersed, optionalBool))
  }
}

function build(parent: Command, name: string, key: string, globals: () => Opts, aliases: string[] | undefined): Command {
  const spec = specs[key]
  if (!spec) throw new Error(`no spec for ${key}`)
  const cmd = new DockerCommand(name).description(spec.short).helpOption('--help', 'Print usage')
  ;(cmd as Command & { _berthUse?: string })._berthUse = spec.use.replace(/^\S+/, name)
  if (aliases) (cmd as Command & { _berthAliases?: string[] })._berthAliases = aliases
  cmd.configureHelp({ formatHelp: (c, h) => new DockerHelp().formatHelp(c, h) })
  cmd.allowExcessArguments(true).allowUnknownOption(false).argument('[args...]')
  if (spec.interspersed === false) cmd.passThroughOptions()
  for (const o of spec.opts ?? []) addOption(cmd, o)
  quiet(cmd)
  cmd.action(async (args: string[], opts: Opts, self: Command) => {
    const path = commandPath(self)
    const usage = `${path.split(' ').slice(0, -1).concat(spec.use.replace(/^\S+/, name)).join(' ')}`
    const msg = argCountError(path, usage, spec.args, args.length)
    if (msg) {
      process.stderr.write(msg)
      throw new ExitError(1)
    }
    const mod = await spec.load()
    const fn = mod[spec.fn] as Handler
    const code = await fn(args, opts, { path, globals: globals() })
    if (typeof code === 'number') throw new ExitError(code)
  })
  parent.addCommand(cmd)
  return cmd
}

/**
 * docker's cli/required.go messages for a wrong number of positional args, or
 * undefined when `n` fits. docker words each checker differently: "See" after
 * RequiresMinArgs and "SRun" (a typo docker 28 ships) after RequiresMaxArgs.
 */
export function argCountError(path: string, usage: string, [min, max]: [number, number], n: number): string | undefined {
  const plural = (k: number): string => (k === 1 ? 'argument' : 'arguments')
  let msg: string
  let hint = 'Run'
  if (min === 0 && max === 0) {
    if (n === 0) return undefined
    msg = `accepts no arguments`
  } else if (min === max) {
    if (n === min) return undefined
    msg = `requires ${min} ${plural(min)}`
  } else if (max === -1) {
    if (n >= min) return undefined
    msg = `requires at least ${min} ${plural(min)}`
    hint = 'See'
  } else if (min === 0) {
    if (n <= max) return undefined
    msg = `requires at most ${max} ${plural(max)}`
    hint = 'SRun'
  } else {
    if (n >= min && n <= max) return undefined
    msg = `requires at least ${min} and at most ${max} ${plural(max)}`
  }
  return `berth: '${path}' ${msg}\n\nUsage:  ${usage}\n\n${hint} '${path} --help' for more information\n`
}

export function buildProgram(): Command {
  const program = new DockerCommand('berth')
    .description('A self-sufficient runtime for containers')
    .helpOption('--help', 'Print usage')
    .option('-c, --context <string>', 'Name of the context to use to connect to the daemon (overrides BERTH_HOST env var and default context set with "berth context use")')
    .option('-H, --host <list>', 'Daemon socket to connect to')
    .option('--tls [bool]', 'Use TLS; implied by --tlsverify')
    .option('--tlscacert <string>', 'Trust certs signed only by this CA (default "~/.docker/ca.pem")')
    .option('--tlscert <string>', 'Path to TLS certificate file (default "~/.docker/cert.pem")')
    .option('--tlskey <string>', 'Path to TLS key file (default "~/.docker/key.pem")')
    .option('--tlsverify [bool]', 'Use TLS and verify the remote')
    .option('-v, --version', 'Print version information and quit')
    .enablePositionalOptions()
  quiet(program)
  program.configureHelp({ formatHelp: (c, h) => new DockerHelp().formatHelp(c, h) })
  ;(program as Command & { _berthUse?: string })._berthUse = 'berth [OPTIONS] COMMAND'
  const globals = (): Opts => program.opts()
  for (const name of shortcuts) {
    const groupName = Object.entries(groups).find(([, g]) => Object.values(g.cmds).includes(name))?.[0]
    const verb = groupName ? Object.entries(groups[groupName]?.cmds ?? {}).find(([, k]) => k === name)?.[0] : undefined
    const aliases = groupName && verb ? [`berth ${groupName} ${verb}`, ...(aliasOf[`${groupName} ${verb}`] ?? []).map((a) => `berth ${groupName} ${a}`), `berth ${name}`] : undefined
    build(program, name, name, globals, aliases)
  }
  for (const [g, def] of Object.entries(groups)) {
    const group = quiet(new Command(g).description(def.short).helpOption('--help', 'Print usage').enablePositionalOptions())
    ;(group as Command & { _berthUse?: string })._berthUse = `${g} COMMAND`
    group.configureHelp({ formatHelp: (c, h) => new DockerHelp().formatHelp(c, h) })
    for (const [verb, key] of Object.entries(def.cmds)) {
      const aliases = [`berth ${g} ${verb}`, ...(aliasOf[`${g} ${verb}`] ?? []).map((a) => `berth ${g} ${a}`)]
      if (shortcuts.includes(key)) aliases.push(`berth ${key}`)
      const cmd = build(group, verb, key, globals, aliases)
      for (const a of aliasOf[`${g} ${verb}`] ?? []) cmd.alias(a)
    }
    program.addCommand(group)
  }
  return program
}

/** The usage line of the command named by the words of argv, if one is. */
function usageFor(argv: string[]): { path: string; usage: string } {
  const words = argv.filter((a) => !a.startsWith('-'))
  const [first = '', second = ''] = words
  const group = groups[first]
  const key = group ? group.cmds[second] ?? Object.entries(aliasOf).find(([k, v]) => k.startsWith(`${first} `) && v.includes(second))?.[0]?.split(' ')[1] : first
  const resolved = group && key ? group.cmds[key] ?? key : key
  const spec = resolved ? specs[resolved] : undefined
  if (!spec) return { path: 'berth', usage: 'berth [OPTIONS] COMMAND [ARG...]' }
  const path = group ? `berth ${first} ${second}` : `berth ${first}`
  const name = group ? second : first
  return { path, usage: `${path.split(' ').slice(0, -1).join(' ')} ${spec.use.replace(/^\S+/, name)}` }
}

/** pflag's "flag needs an argument" for commander's option flags ("-n, --last <int>"), as the user spelled it. */
export function missingArgument(flags: string, argv: string[]): string {
  const long = /--[\w-]+/.exec(flags)?.[0]
  const short = /(?:^|[\s,])-(\w)\b/.exec(flags)?.[1]
  if (long && (!short || argv.includes(long))) return `flag needs an argument: ${long}`
  return `flag needs an argument: '${short ?? ''}' in -${short ?? ''}`
}

/** Turns commander's parse errors into docker 28's wording; returns the exit status. */
export function commanderErrorStatus(err: CommanderError, argv: string[]): number {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0
  if (err.code === 'commander.unknownCommand') {
    const cmd = /unknown command '([^']+)'/.exec(err.message)?.[1] ?? ''
    const group = argv.find((a) => !a.startsWith('-'))
    if (group && group !== cmd && groups[group]) {
      process.stderr.write(`berth: unknown command: berth ${group} ${cmd}\n\nUsage:  berth ${group}\n\nRun 'berth ${group} --help' for more information\n`)
      return 1
    }
    process.stderr.write(`berth: unknown command: berth ${cmd}\n\nRun 'berth --help' for more information\n`)
    return 1
  }
  const { path, usage } = usageFor(argv)
  const m = /unknown option '([^']+)'/.exec(err.message)
  const flag = m?.[1]
  let text: string
  if (flag) {
    text = flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.replace(/^-/, '').slice(0, 1)}' in ${flag}`
  } else {
    const missing = /option '([^']+)' argument missing/.exec(err.message)
    const invalid = err.code === 'commander.invalidArgument' ? /is invalid\. (.*)$/s.exec(err.message)?.[1] : undefined
    if (invalid) text = invalid
    else if (missing) text = missingArgument(missing[1] ?? '', argv)
    else text = err.message.replace(/^error: /, '')
  }
  process.stderr.write(`${text}\n\nUsage:  ${usage}\n\nRun '${path} --help' for more information\n`)
  return 125
}
