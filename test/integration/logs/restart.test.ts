// Nothing a container writes is lost when berthd dies: conmon goes on keeping
// the output, and the restarted berthd ships what it missed into the
// json-file, once and in order. Its own berthd, since the test kills it.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { missing, ok, waitFor } from '../../helpers.js'
import { PrivateDaemon } from '../system/helpers.js'

const skip = missing('root', 'daemon')

describe.skipIf(skip)('json-file logs across a berthd crash', () => {
  const d = new PrivateDaemon()
  beforeAll(async () => {
    await d.start()
  }, 120_000)
  afterAll(async () => {
    await d.restart().catch(() => {})
    await d.stop()
  }, 120_000)

  test('lines written while berthd is down reach the json-file after its restart, once each', async () => {
    ok(await d.berth(['run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 60 ]; do echo "n $i"; i=$((i+1)); sleep 0.05; done; sleep 2']))
    const file = ok(await d.berth(['inspect', '-f', '{{.LogPath}}', 'counter'])).stdout.trim()
    await waitFor(async () => ((await d.berth(['logs', 'counter'])).stdout.includes('n 5\n') ? true : undefined), 15_000, 'the first lines')
    await d.kill()
    // The container goes on (live restore) while berthd is away.
    await new Promise((r) => setTimeout(r, 2000))
    await d.restart()
    await waitFor(async () => ((await d.berth(['inspect', '-f', '{{.State.Status}}', 'counter'])).stdout.trim() === 'exited' ? true : undefined), 30_000, 'the counter to finish')
    const logs = ok(await d.berth(['logs', 'counter'])).stdout
    expect(logs).toBe(Array.from({ length: 60 }, (_, i) => `n ${i}\n`).join(''))
    const onDisk = readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { log: string }).log)
    expect(onDisk).toEqual(Array.from({ length: 60 }, (_, i) => `n ${i}\n`))
  }, 90_000)
})
