import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // No test here needs a process of its own (no signals, no chdir); threads start faster than forks.
    pool: 'threads',
    // Far above what any test needs: two cores shared with other suites can stall one for seconds,
    // and a timeout there says nothing about the code.
    testTimeout: 30_000,
  },
})
