/**
 * berthd has no swarm mode yet: the docker CLI's swarm, node, service,
 * secret, config and stack commands get what a dockerd outside any swarm
 * answers, `swarm init`/`join` say swarm mode is missing, and plugin
 * commands see an engine without managed plugins.
 */
import { describe, expect, it } from 'vitest'
import { docker, missing, ok } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')
const NOT_A_MANAGER = 'Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'

describe.skipIf(skip)('swarm and plugin API of a standalone berthd', () => {
  it('manager-only commands get dockerd\'s "not a swarm manager"', async () => {
    for (const args of [['node', 'ls'], ['service', 'ls'], ['service', 'create', '--detach', 'busybox', 'true'], ['secret', 'ls'], ['config', 'ls'], ['stack', 'ls'], ['swarm', 'join-token', 'worker'], ['service', 'inspect', 'web']]) {
      const r = await docker(args)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr, args.join(' ')).toContain(NOT_A_MANAGER)
    }
    const leave = await docker(['swarm', 'leave'])
    expect(leave.code).toBe(1)
    expect(leave.stderr).toContain('Error response from daemon: This node is not part of a swarm')
  })

  it('swarm init and join say that berth has no swarm mode yet', async () => {
    for (const args of [['swarm', 'init'], ['swarm', 'join', '--token', 'SWMTKN-1-x-y', '127.0.0.1:2377']]) {
      const r = await docker(args)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr, args.join(' ')).toContain('swarm mode is not available in berth yet')
    }
    // The node stays outside any swarm.
    expect(ok(await docker(['info', '-f', '{{.Swarm.LocalNodeState}}'])).stdout.trim()).toBe('inactive')
  })

  it('plugin ls lists none; a named plugin is not found; install is refused', async () => {
    const ls = ok(await docker(['plugin', 'ls']))
    expect(ls.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^ID\s+NAME\s+DESCRIPTION\s+ENABLED$/)])
    const rm = await docker(['plugin', 'rm', 'nosuchplugin'])
    expect(rm.code).toBe(1)
    expect(rm.stderr).toContain('plugin "nosuchplugin" not found')
    const install = await docker(['plugin', 'install', '--grant-all-permissions', 'vieux/sshfs'])
    expect(install.code).toBe(1)
    expect(install.stderr).toContain('managed plugins are not supported by berth')
  })
})
