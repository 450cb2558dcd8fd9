import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Far above what any test needs (the slowest take a few hundred ms): two cores shared with other
    // suites can stall one for seconds, and a timeout there says nothing about the code.
    testTimeout: 30_000,
  },
})
