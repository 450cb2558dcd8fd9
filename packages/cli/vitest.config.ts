import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The command tests start real servers and run the built bin; two cores share them.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    fileParallelism: false,
  },
})
