// Runs the built bench with the smallest counts, every scenario, so the harness cannot rot. It
// checks that each side measured something and that the files were written, never what was measured.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { findRedisServer } from '../src/processes/redis-server.js'
import type { BenchReport } from '../src/run-bench.js'
import { SCENARIOS } from '../src/scenarios/index.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const main = join(root, 'dist', 'main.js')
const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

function newest(dir: string): number {
  return Math.max(...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => statSync(join(dir, file)).mtimeMs))
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr })
    })
  })
}

it('runs every scenario with the smallest counts and writes the table, the JSON and the chart', async () => {
  // The bench runs from its build, as `pnpm bench` does (turbo builds it before its tests).
  expect(newest(join(root, 'dist')), 'dist/ is older than src/: run the build first').toBeGreaterThanOrEqual(
    newest(join(root, 'src')),
  )
  const redis = findRedisServer()
  if (redis === undefined) console.warn('redis-server not found on the PATH: the smoke test runs without the Redis rows')

  const { code, stdout, stderr } = await run(['--quick', '--out', out])

  expect(stderr).toBe('')
  expect(code).toBe(0)
  if (redis === undefined) expect(stdout).toContain('redis-server not found on the PATH: Redis rows are skipped.')
  expect(stdout).toContain('| row ')
  const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport
  expect(report.scenarios.map((scenario) => scenario.id)).toEqual(SCENARIOS.map(([id]) => id))
  for (const scenario of report.scenarios) {
    expect(scenario.error, scenario.id).toBeUndefined()
    expect(
      scenario.sides.some((side) => side.column === 'redis'),
      scenario.id,
    ).toBe(redis !== undefined)
    for (const side of scenario.sides) {
      expect(side.samples, `${scenario.id}: ${side.label}`).toHaveLength(1)
      expect(Object.values(side.samples[0]!).some(Number.isFinite), `${scenario.id}: ${side.label}`).toBe(true)
    }
  }
  expect(report.rows.length).toBeGreaterThan(0)
  expect(readFileSync(join(out, 'latest.svg'), 'utf8')).toMatch(/^<svg [\s\S]*<\/svg>\n$/)
})

it('explains its options', async () => {
  const { code, stdout } = await run(['--help'])
  expect(code).toBe(0)
  for (const [id] of SCENARIOS) expect(stdout).toContain(id)
})
