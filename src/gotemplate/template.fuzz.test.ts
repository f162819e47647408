/**
 * Property-based test of the template engine on hostile `--format` strings:
 * random sequences of actions, keywords, pipelines and recursion. Parsing
 * and executing either succeed or throw TemplateError, and always end: each
 * case runs in a worker thread that is terminated when it overruns its
 * timeout, so a hang fails the test with its input instead of stalling it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { buildSync } from 'esbuild'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** BERTH_FUZZ_SCALE=20 runs twenty times the cases: a longer hunt than CI's. */
const SCALE = Number(process.env.BERTH_FUZZ_SCALE ?? 1)

/** Per case: far above what any legitimate template takes, far below a hang. */
const CASE_TIMEOUT_MS = 5_000

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-tmpl-fuzz-'))

// The worker runs the engine from this folder's sources, bundled: no build needed.
const WORKER = `
import { parentPort } from 'node:worker_threads'
import { parseTemplate, dockerFuncs, TemplateError } from './engine.mjs'
parentPort.on('message', ({ id, text, data }) => {
  let outcome
  try {
    const t = parseTemplate(text, { funcs: dockerFuncs })
    const out = t.execute(data)
    outcome = { ok: true, length: out.length }
  } catch (err) {
    outcome = err instanceof TemplateError ? { ok: false } : { crash: String(err && err.stack || err) }
  }
  parentPort.postMessage({ id, ...outcome })
})
`

interface Outcome {
  id: number
  ok?: boolean
  length?: number
  crash?: string
}

class Runner {
  private worker!: Worker
  private next = 0
  private pending = new Map<number, (o: Outcome) => void>()

  start(): void {
    this.worker = new Worker(path.join(dir, 'worker.mjs'))
    this.worker.on('message', (o: Outcome) => {
      this.pending.get(o.id)?.(o)
      this.pending.delete(o.id)
    })
  }

  /** The outcome, or 'timeout' (the worker is then replaced). */
  async run(text: string, data: unknown): Promise<Outcome | 'timeout'> {
    const id = this.next++
    const result = new Promise<Outcome | 'timeout'>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve('timeout')
      }, CASE_TIMEOUT_MS)
      this.pending.set(id, (o) => {
        clearTimeout(timer)
        resolve(o)
      })
    })
    this.worker.postMessage({ id, text, data })
    const r = await result
    if (r === 'timeout') {
      await this.worker.terminate()
      this.start()
    }
    return r
  }

  stop(): Promise<number> {
    return this.worker.terminate()
  }
}

const runner = new Runner()

beforeAll(() => {
  const bundle = buildSync({
    entryPoints: [path.join(import.meta.dirname, 'index.ts')],
    bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent',
  })
  writeFileSync(path.join(dir, 'engine.mjs'), bundle.outputFiles[0]?.text ?? '')
  writeFileSync(path.join(dir, 'worker.mjs'), WORKER)
  runner.start()
})
afterAll(async () => {
  await runner.stop()
  rmSync(dir, { recursive: true, force: true })
})

const token = fc.constantFrom(
  '{{', '}}', '{{- ', ' -}}', '{{/* c */}}', 'range ', 'if ', 'else ', 'else if ', 'end', 'with ', 'define "a"', 'define "b"',
  'template "a"', 'template "a" .', 'template "b" $', 'block "a" .', 'break', 'continue', '.', '.Names', '.M.a', '.N', '$', '$x', '$i, $e',
  ' := ', ' = ', ' | ', '(', ')', 'printf "%v" ', 'printf "%*d" ', 'printf "%-999999s" ', 'len ', 'index ', 'slice ', 'json ', 'join ',
  'split ', 'upper ', 'lower ', 'title ', 'truncate ', 'pad ', 'println ', 'html ', 'js ', 'urlquery ', 'call ', 'eq ', 'ne ', 'lt ',
  'and ', 'or ', 'not ', 'print ', ',', 'nil', 'true', '1', '3', '100000', '1e9', '-1', '0x7fffffffffffffff', '1.5', "'x'", '"s"',
  '`raw`', '"\\u0000"', ' ', 'text', '\n', '"', '{', '}', '%',
)

const template = fc.oneof(
  { weight: 8, arbitrary: fc.array(token, { maxLength: 40 }).map((t) => t.join('')) },
  // Well-formed shapes with hostile parts: loops, recursion, nesting. Loops that run into the
  // step limit take most of a second each: those are pinned below rather than drawn here.
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('range', 'with', 'if'), fc.array(token, { maxLength: 8 }), fc.nat({ max: 12 })).map(([kw, body, depth]) => `{{${kw} .Names}}`.repeat(depth) + `{{${body.join('')}}}` + '{{end}}'.repeat(depth)) },
  { weight: 2, arbitrary: fc.tuple(fc.array(token, { maxLength: 10 }), fc.array(token, { maxLength: 10 })).map(([a, b]) => `{{define "a"}}${a.join('')}{{template "a" .}}{{end}}{{define "b"}}${b.join('')}{{end}}{{template "a" .}}`) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 30 }), fc.nat({ max: 3 })).map(([n, k]) => `{{range ${n}}}`.repeat(k + 1) + 'x' + '{{end}}'.repeat(k + 1)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
)

const data = { Names: ['a', 'b', 'c'], N: 5, M: { a: 1, b: [1, 2] }, S: 'text' }

describe('gotemplate on hostile templates', () => {
  it('parses and runs, or fails with TemplateError, always in bounded time', async () => {
    await fc.assert(
      fc.asyncProperty(template, async (text) => {
        const r = await runner.run(text, data)
        expect(r, `hung on ${JSON.stringify(text)}`).not.toBe('timeout')
        if (r !== 'timeout') expect(r.crash, `threw a non-template error on ${JSON.stringify(text)}`).toBeUndefined()
      }),
      { numRuns: 300 * SCALE },
    )
  }, 120_000 * SCALE)

  it('a billion by a billion range ends with an error, well within the timeout', async () => {
    const r = await runner.run('{{range 1000000000}}{{range 1000000000}}x{{end}}{{end}}', data)
    expect(r).toEqual({ id: expect.any(Number), ok: false })
  }, 20_000)
})
