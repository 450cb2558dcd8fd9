import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // No test here needs a process of its own (no signals, no chdir); threads start faster than forks.
    pool: 'threads',
  },
})
