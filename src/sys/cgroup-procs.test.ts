import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cgroupProcs } from './cgroup-procs.js'

describe('cgroupProcs', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-cgprocs-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const procs = (root: string, rel: string, text: string) => {
    mkdirSync(path.join(root, rel), { recursive: true })
    writeFileSync(path.join(root, rel, 'cgroup.procs'), text)
  }

  it('reads a v1 container from the pids hierarchy, under any parent', async () => {
    const root = path.join(dir, 'v1')
    procs(root, 'pids/jobs/batch/abc', '12\n7\n12\n')
    procs(root, 'memory/jobs/batch/abc', '99\n')
    expect(await cgroupProcs('/jobs/batch/abc', root)).toEqual([7, 12])
  })

  it('reads a pure v2 tree, where the path sits at the root', async () => {
    const root = path.join(dir, 'v2')
    mkdirSync(root, { recursive: true })
    writeFileSync(path.join(root, 'cgroup.controllers'), 'cpu memory pids\n')
    procs(root, 'berth/abc', '31\n30\n')
    expect(await cgroupProcs('/berth/abc', root)).toEqual([30, 31])
  })

  it('finds nothing for a cgroup that is gone', async () => {
    expect(await cgroupProcs('/berth/none', path.join(dir, 'v1'))).toEqual([])
  })
})
