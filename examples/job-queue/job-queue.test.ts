import { afterEach, expect, it } from 'vitest'
import { runExample, stopExamples } from '../support/run-example.js'

afterEach(stopExamples)

it("gives a killed worker's job to another worker, and every job is finished once", async () => {
  const server = runExample('job-queue/server.ts', ['6'])
  await server.waitForLine(/^listening at .* with 6 jobs$/)
  // A worker whose first job takes a minute: killed while it holds it.
  const stuck = runExample('job-queue/worker.ts', ['60000'])
  await stuck.waitForLine(/^claimed job 1$/)
  stuck.child.kill('SIGKILL')
  await stuck.exited
  const worker = runExample('job-queue/worker.ts')
  expect((await worker.exited).code).toBe(0)
  const finished = worker.lines.filter((line) => line.startsWith('finished job ')).map((line) => Number(line.slice(13)))
  // Job 1 came back once its worker's grace ran out, and the second worker finished it too.
  expect(finished.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
  expect(worker.lines.at(-1)).toBe('all 6 jobs done')
})
