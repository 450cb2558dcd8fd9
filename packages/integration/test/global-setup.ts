// Run once before the test files: every TypeScript fixture as JavaScript, so that the hundreds of
// fixture processes the tests start skip the TypeScript loader's start-up (startFixture uses them).
import type { TestProject } from 'vitest/node'
import { allFixtureNames, plainFixtures } from '../src/processes/plain-fixtures.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder of the fixtures as JavaScript, or undefined to run them through tsx. */
    plainFixtures: string | undefined
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixtures = await plainFixtures(await allFixtureNames())
  project.provide('plainFixtures', fixtures.root)
  return async () => {
    await fixtures[Symbol.asyncDispose]()
  }
}
