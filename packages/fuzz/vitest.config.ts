import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Some properties start real servers and a real redis-server; two cores share them.
    testTimeout: 120_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
})
