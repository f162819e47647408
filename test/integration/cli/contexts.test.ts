/**
 * Contexts shared with the docker CLI: one made by `docker context create`
 * is listed, used and removed by berth, and berth's `context use` is what the
 * docker CLI then shows. Commands reach the test daemon through the context.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { berth, docker, missing, ok, sock } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

describe.skipIf(skip)('contexts', () => {
  const cfg = mkdtempSync(path.join(os.tmpdir(), 'berth-contexts-'))
  afterAll(() => rmSync(cfg, { recursive: true, force: true }))
  // Neither CLI may have a host from the environment: that would override the context.
  const env = { DOCKER_CONFIG: cfg, BERTH_HOST: '', DOCKER_HOST: '' }

  it('a docker-made context serves berth: ls, --context, use, show, inspect, rm', async () => {
    ok(await docker(['context', 'create', 'bt', '--description', 'test daemon', '--docker', `host=unix://${sock()}`], { env }))
    const ls = ok(await berth(['context', 'ls'], { env })).stdout.split('\n')
    expect(ls[0]).toMatch(/^NAME\s+DESCRIPTION\s+DOCKER ENDPOINT\s+ERROR$/)
    expect(ls).toContainEqual(expect.stringMatching(new RegExp(`^bt\\s+test daemon\\s+unix://${sock()}\\s*$`)))
    expect(ls).toContainEqual(expect.stringMatching(/^default \*\s+Current DOCKER_HOST based configuration\s+unix:\/\/\/run\/berth\/berth\.sock\s*$/))

    expect(ok(await berth(['--context', 'bt', 'version', '--format', '{{.Server.Os}}'], { env })).stdout).toBe('linux\n')
    const conflict = await berth(['--context', 'bt', '-H', `unix://${sock()}`, 'ps'], { env })
    expect(conflict.code).toBe(1)
    expect(conflict.stderr).toContain('conflicting options: cannot specify both --host and --context')

    const use = ok(await berth(['context', 'use', 'bt'], { env }))
    expect(use.stdout).toBe('bt\n')
    expect(use.stderr).toBe('Current context is now "bt"\n')
    expect(ok(await docker(['context', 'show'], { env })).stdout).toBe('bt\n')
    expect(ok(await berth(['context', 'show'], { env })).stdout).toBe('bt\n')
    // With no -H, commands go where the current context points.
    ok(await berth(['ps', '-q'], { env }))
    const inspect = JSON.parse(ok(await berth(['context', 'inspect'], { env })).stdout) as Array<{ Name: string; Endpoints: { docker: { Host: string } } }>
    expect(inspect[0]?.Name).toBe('bt')
    expect(inspect[0]?.Endpoints.docker.Host).toBe(`unix://${sock()}`)
    expect(ok(await berth(['context', 'inspect', 'default'], { env })).stdout).toContain('"MetadataPath": "\\u003cIN MEMORY\\u003e"')

    const inUse = await berth(['context', 'rm', 'bt'], { env })
    expect(inUse.code).toBe(1)
    expect(inUse.stderr).toBe('context "bt" is in use, set -f flag to force remove\n')
    expect(ok(await berth(['context', 'rm', '-f', 'bt'], { env })).stdout).toBe('bt\n')
    expect(ok(await docker(['context', 'show'], { env })).stdout).toBe('default\n')
    expect(ok(await docker(['context', 'ls', '-q'], { env })).stdout).toBe('default\n')
  })

  it("berth's contexts work in the docker CLI, and refusals read as docker's", async () => {
    const made = ok(await berth(['context', 'create', 'bt2', '--docker', `host=unix://${sock()}`], { env }))
    expect(made.stdout).toBe('bt2\n')
    expect(made.stderr).toBe('Successfully created context "bt2"\n')
    expect(ok(await docker(['--context', 'bt2', 'version', '--format', '{{.Server.Os}}'], { env })).stdout).toBe('linux\n')
    const again = await berth(['context', 'create', 'bt2'], { env })
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('context "bt2" already exists')
    const reserved = await berth(['context', 'create', 'default'], { env })
    expect(reserved.stderr).toContain('"default" is a reserved context name')
    const missingCtx = await berth(['context', 'use', 'nosuch'], { env })
    expect(missingCtx.code).toBe(1)
    expect(missingCtx.stderr).toMatch(/^context "nosuch": context not found: open .*meta\.json: no such file or directory\n$/)
    ok(await berth(['context', 'rm', 'bt2'], { env }))
  })
})
