import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The smoke test runs the built bench with its real processes; it takes about 12 seconds on
    // a quiet 2-core machine, longer while other suites run beside it.
    testTimeout: 90_000,
  },
})
