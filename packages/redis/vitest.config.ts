import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Pure functions only here; the tests against a real redis-server run in packages/integration.
    pool: 'threads',
    // Far above what any test needs: two cores shared with other suites can stall one for seconds,
    // and a timeout there says nothing about the code.
    testTimeout: 30_000,
  },
})
