/**
 * `berth images --tree` against docker 28's: the same images through both
 * CLIs must print the same tree byte for byte, without a terminal and on one
 * (colours, width), and refuse the same flags with the same words.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, berthBin, dockerBin, missing, ok, repo, sameAsDocker, sock, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')
const noScript = spawnSync('script', ['--version']).status === 0 ? undefined : 'script(1) is not installed'

const both = sameAsDocker

/** A command line run on a terminal of `cols` columns (script(1)), its output as the terminal got it. */
function onTerminal(command: string, cols: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, BERTH_HOST: `unix://${sock()}`, DOCKER_HOST: `unix://${sock()}`, DOCKER_CONFIG: '/tmp/berth-test-docker-config' }
    const child = spawn('script', ['-qec', `stty cols ${cols} rows 40; ${command}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.on('error', reject)
    child.on('close', () => resolve(Buffer.concat(out).toString()))
    child.stdin.end()
  })
}

describe.skipIf(skip)('berth images --tree prints what docker images --tree prints', () => {
  const name = uniq('tree')
  const other = uniq('tree-other')
  let dir = ''
  let danglingID = ''

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-tree-'))
    const tar = path.join(dir, 'rootfs.tar')
    writeFileSync(tar, execFileSync(path.join(repo, 'scripts/busybox-rootfs'), { maxBuffer: 64 << 20 }))
    // One image with two names of different lengths, one with one, and a dangling one (the first import under `other`).
    ok(await berth(['import', '-m', 'one', tar, `${name}:1`]))
    ok(await berth(['tag', `${name}:1`, `${name}:a-much-longer-tag`]))
    danglingID = ok(await berth(['import', '-m', 'two', tar, `${other}:1`])).stdout.trim()
    ok(await berth(['import', '-m', 'three', tar, `${other}:1`]))
  })

  afterAll(async () => {
    await berth(['rmi', '-f', `${name}:1`, `${name}:a-much-longer-tag`, `${other}:1`])
    if (danglingID) await berth(['rmi', '-f', danglingID])
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('lists, filtered and not, with and without --all', async () => {
    const r = await both(['images', '--tree', name])
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe("WARNING: This is an experimental feature. The output may change and shouldn't be depended on.")
    expect(lines[1]).toMatch(/^ +Info -> {2}U In Use $/)
    expect(lines[3]).toMatch(/IMAGE.*ID.*DISK USAGE.*CONTENT SIZE.*EXTRA/)
    expect(lines[4]).toBe(`${name}:a-much-longer-tag`)
    expect(lines[5]).toMatch(new RegExp(`^${name}:1 +[0-9a-f]{12} +\\S+ +0B {8}$`))
    for (const args of [['images', '--tree'], ['image', 'ls', '--tree', other], ['image', 'list', '--tree', '-a'],
      ['images', '--tree', '-a', '-f', 'dangling=true'], ['images', '--tree', '-f', `reference=${other}*`], ['images', '--tree', 'nosuch-image'],
      ['images', '--tree', 'ls']]) {
      expect((await both(args)).code).toBe(0)
    }
  })

  it('refuses the flags docker refuses with --tree, in docker order', async () => {
    for (const args of [['-q'], ['--no-trunc'], ['--digests'], ['--format', 'json'], ['-q', '--format', 'json'], ['--digests', '--no-trunc']]) {
      const r = await both(['images', '--tree', ...args])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/ is not yet supported with --tree\n$/)
    }
    expect((await both(['images', '--tree', '-f', 'nokey'])).code).toBe(125)
    expect((await both(['images', '--tree', '-f', 'bogus=1'])).code).toBe(1)
  })

  it.skipIf(noScript)('on a terminal: colours and the terminal width', async () => {
    for (const cols of [120, 80, 30]) {
      for (const args of [name, `-a ${other}`]) {
        const d = await onTerminal(`${dockerBin ?? 'docker'} images --tree ${args}`, cols)
        const b = await onTerminal(`${berthBin} images --tree ${args}`, cols)
        expect(b, `${cols} columns: ${args}`).toBe(d)
        expect(d).toContain('\x1b[93mWARNING')
      }
    }
  })
})
