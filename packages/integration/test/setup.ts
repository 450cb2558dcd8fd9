// Run before each test file: whatever processes the file leaves running are killed once it ends.
import { afterAll } from 'vitest'
import { killLeftovers } from '../src/processes/leftovers.js'

afterAll(() => {
  const killed = killLeftovers()
  if (killed > 0) console.warn(`killed ${killed} process(es) this file left running`)
})
