import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Pure functions only here; the tests against a real redis-server run in packages/integration.
    pool: 'threads',
  },
})
