import { afterEach, expect, it, vi } from 'vitest'
import { type ExampleProcess, runExample, stopExamples } from '../support/run-example.js'

/** Daemons the command line started: detached from it, so the test ends them itself. */
const daemons = new Set<number>()

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

afterEach(async () => {
  for (const pid of daemons) if (isRunning(pid)) process.kill(pid, 'SIGKILL')
  daemons.clear()
  await stopExamples()
})

/** Runs `cli.ts` with `args` to its end: its code, its lines, and what it wrote on stderr. */
async function cli(...args: string[]): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const run: ExampleProcess = runExample('cli-daemon/cli.ts', args)
  const { code, stderr } = await run.exited
  for (const line of run.lines) {
    const started = /^started the daemon \(pid (\d+)\)$/.exec(line)
    if (started !== null) daemons.add(Number(started[1]))
  }
  return { code, lines: run.lines, stderr }
}

it('starts the daemon on first use, reaches the same one after, and stops it', async () => {
  const first = await cli('add', 'buy', 'milk')
  expect(first).toMatchObject({ code: 0, lines: [expect.stringMatching(/^started the daemon \(pid \d+\)$/), 'added #1'] })
  const [pid] = daemons
  // The daemon runs on after the command that started it has ended; the next ones find it.
  expect(isRunning(pid!)).toBe(true)
  expect(await cli('add', 'walk the dog')).toMatchObject({ code: 0, lines: ['added #2'] })
  expect(await cli('done', '1')).toMatchObject({ code: 0, lines: ['done #1'] })
  expect(await cli('list')).toMatchObject({ code: 0, lines: ['#1 [x] buy milk', '#2 [ ] walk the dog'] })

  // The daemon checks each input against its action's schema, and says what was wrong.
  const bad = await cli('done', 'one')
  expect(bad.code).toBe(1)
  expect(bad.stderr).toMatch(/^Invalid input for action "done"/)
  const missing = await cli('done', '9')
  expect(missing).toMatchObject({ code: 1, stderr: 'Action "done" failed: there is no task #9\n' })
  expect(daemons.size).toBe(1)

  expect(await cli('stop')).toMatchObject({ code: 0, lines: [`stopped the daemon (pid ${pid})`] })
  await vi.waitFor(() => expect(isRunning(pid!)).toBe(false), { timeout: 30_000, interval: 100 })
  expect(await cli('stop')).toMatchObject({ code: 0, lines: ['the daemon is not running'] })
  // A new daemon starts with a new list: this one keeps its state in memory.
  const again = await cli('list')
  expect(again).toMatchObject({ code: 0, lines: [expect.stringMatching(/^started the daemon/), 'no tasks'] })
})

it('two commands run at once, with no daemon running, share one daemon', async () => {
  const [a, b] = await Promise.all([cli('add', 'first'), cli('add', 'second')])
  expect([a.code, b.code]).toEqual([0, 0])
  // Both may have started a daemon; the one that came second found the socket taken and left.
  expect([a.lines.at(-1), b.lines.at(-1)].sort()).toEqual(['added #1', 'added #2'])
  const list = await cli('list')
  expect(list.lines.filter((line) => line.startsWith('started'))).toEqual([])
  // Either may have come first: each task carries the number its own command printed.
  const numbered = (run: { lines: string[] }, text: string) => `${run.lines.at(-1)!.replace('added ', '')} [ ] ${text}`
  expect([...list.lines].sort()).toEqual([numbered(a, 'first'), numbered(b, 'second')].sort())
  await vi.waitFor(() => expect([...daemons].filter(isRunning)).toHaveLength(1), { timeout: 30_000, interval: 100 })
})
