import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The command tests start real servers and run the built bin (the inspector's, a browser too); two
    // cores share them with the other packages' tests: room for a loaded machine, not a target.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
