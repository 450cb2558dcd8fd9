import { BaseSequencer, type TestSpecification } from 'vitest/node'
import { defineConfig } from 'vitest/config'

/**
 * Files that measure a server's memory or the relative speed of its readers: they run one at a time,
 * after the others, so that another file's processes cannot move their figures.
 */
const ALONE = [
  'test/memory-budget.test.ts',
  'test/limits.test.ts',
  // These bound a server's or a client's event-loop block and memory under an attack.
  'test/frame-costs.test.ts',
  'test/hostile-actions.test.ts',
]

/**
 * The longest files of the side-by-side group, longest first: started first, so that no long file
 * starts last and runs on alone while the other workers have nothing left to do.
 */
const LONGEST_FIRST = [
  'test/durability-kill.test.ts',
  'test/coordination-trials.test.ts',
  'test/redis-shared-servers.test.ts',
  'test/socket-takeover.test.ts',
  'test/durability-recovery.test.ts',
  'test/redis-store-lifecycle.test.ts',
  'test/socket-files.test.ts',
]

const rank = (spec: TestSpecification): number => {
  const index = LONGEST_FIRST.findIndex((file) => spec.moduleId.endsWith(file))
  return index === -1 ? LONGEST_FIRST.length : index
}

/** Vitest's order (by group, then by the last run's durations when it has them), the longest files first. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    return sorted
      .map((spec, index) => ({ spec, index }))
      .sort(
        (a, b) =>
          a.spec.project.config.sequence.groupOrder - b.spec.project.config.sequence.groupOrder ||
          rank(a.spec) - rank(b.spec) ||
          a.index - b.index,
      )
      .map(({ spec }) => spec)
  }
}

export default defineConfig({
  test: {
    // Every test starts real processes, and shares two cores with the other files of its group (and,
    // under `pnpm test`, with the other packages' tests): room for a loaded machine, not a target.
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // Kills what a file left running (a test that timed out never reaches its disposers).
    setupFiles: ['test/setup.ts'],
    // Transpiles the fixtures once for the run (see test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'side-by-side',
          include: ['test/**/*.test.ts'],
          exclude: ALONE,
          // Most of a file's time is spent starting the processes it runs and waiting on them: two
          // files at once fill the two cores' idle time; three starved the heaviest on a loaded machine.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: ALONE,
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
