import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test runs the demo's real processes.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
})
