// The walkthrough, command by command, through the real docker CLI
// against berthd (names made unique and a free port instead of 8088).
import { afterAll, describe, expect, test } from 'vitest'
import { berth, docker, missing, ok, uniq, waitFor } from '../../helpers.js'
import { freeHostPort, hasIpv6, httpGet } from './net.js'

const skip = missing('root', 'daemon', 'docker-cli')

describe.skipIf(skip)('the networking walkthrough with the docker CLI', () => {
  const web = uniq('seed-web')
  const web2 = uniq('seed-web2')
  const tooFar = uniq('too-far')

  afterAll(async () => {
    await berth(['rm', '-f', web, web2])
    await berth(['network', 'rm', tooFar])
  })

  test('network ls, inspect, run -p, port, network create, ping by name, connect, disconnect', async () => {
    expect(ok(await docker(['network', 'ls'])).stdout).toMatch(/^[0-9a-f]{12}\s+bridge\s+bridge\s+local$/m)
    const [bridge] = JSON.parse(ok(await docker(['network', 'inspect', 'bridge'])).stdout) as Array<{ IPAM: { Config: Array<{ Subnet: string; Gateway: string }> }; Options: Record<string, string> }>
    expect(bridge?.IPAM.Config[0]?.Subnet).toMatch(/\/\d+$/)
    expect(Object.keys(bridge?.Options ?? {})).toContain('com.docker.network.bridge.name')

    const port = await freeHostPort()
    ok(await docker(['run', '-d', '--name', web, '-p', `${port}:80`, 'busybox', 'httpd', '-f', '-p', '80']))
    // Any HTTP answer will do: httpd serves / without an index page.
    await waitFor(() => httpGet('127.0.0.1', port, 1000), 15_000, 'httpd behind the published port')
    expect(ok(await docker(['port', web])).stdout).toBe(`80/tcp -> 0.0.0.0:${port}\n` + (hasIpv6() ? `80/tcp -> [::]:${port}\n` : ''))
    const ip = ok(await docker(['inspect', '-f', '{{ .NetworkSettings.Networks.bridge.IPAddress }}', web])).stdout.trim()
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/)

    expect(ok(await docker(['network', 'create', '-d', 'bridge', tooFar])).stdout.trim()).toMatch(/^[0-9a-f]{64}$/)
    ok(await docker(['run', '-d', '--name', web2, '--network', tooFar, '--dns', '127.0.0.1', 'busybox', 'sleep', '1d']))
    const ping = await docker(['run', '--rm', '--network', tooFar, '--dns', '127.0.0.1', 'busybox', 'ping', '-c1', web2])
    expect(ping.code, ping.stdout + ping.stderr).toBe(0)

    ok(await docker(['network', 'connect', tooFar, web]))
    const ping2 = await docker(['exec', web2, 'ping', '-c1', '-W2', web])
    expect(ping2.code, ping2.stdout + ping2.stderr).toBe(0)
    ok(await docker(['network', 'disconnect', tooFar, web]))
    const nets = ok(await docker(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', web])).stdout.trim()
    expect(nets).toBe('bridge')
  })
})
