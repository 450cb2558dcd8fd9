import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    // React renders into a DOM: happy-dom's, in the test's own process.
    environment: 'happy-dom',
    // Far above what any test needs: two cores shared with other suites can stall one for seconds.
    testTimeout: 30_000,
  },
})
