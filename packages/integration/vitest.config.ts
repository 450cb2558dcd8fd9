import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test starts real processes; two cores share them.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
})
