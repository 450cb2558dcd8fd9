// What one change costs: Mutative (which the server uses) against Immer, producing patches for
// actions on a state of 10,000 messages. Prints ops/s for both and their ratio, measured in this
// one run, and the bytes a change message carries next to the size of the whole state.
//
//   pnpm --filter @ipc-state/server bench
import { enablePatches, produceWithPatches, setAutoFreeze } from 'immer'
import { create } from 'mutative'

const MESSAGES = 10_000
const RUNS = 5
const RUN_MS = 500

const state = {
  counter: 0,
  messages: Array.from({ length: MESSAGES }, (_, i) => ({
    id: i + 1,
    text: `message number ${i} lorem ipsum dolor sit`.slice(0, 40),
    from: `client-${i % 50}`,
    at: 1_700_000_000_000 + i,
  })),
}

const actions = {
  'counter += 1': (draft) => {
    draft.counter += 1
  },
  'push one message': (draft) => {
    draft.messages.push({ id: MESSAGES + 1, text: 'a new message', from: 'client-7', at: 1_800_000_000_000 })
  },
  'edit one message in the middle': (draft) => {
    draft.messages[MESSAGES / 2].text = 'edited'
  },
  'remove the first message': (draft) => {
    draft.messages.shift()
  },
}

// As the server runs them: patches on, auto-freeze off (copy-on-write already keeps the base intact).
enablePatches()
setAutoFreeze(false)
const libraries = {
  mutative: (recipe) => create(state, recipe, { enablePatches: true })[1],
  immer: (recipe) => produceWithPatches(state, recipe)[1],
}

function opsPerSecond(produce, recipe) {
  const rates = []
  for (let run = -1; run < RUNS; run++) {
    let ops = 0
    const start = performance.now()
    let now = start
    while (now - start < RUN_MS) {
      produce(recipe)
      ops++
      now = performance.now()
    }
    if (run >= 0) rates.push(ops / ((now - start) / 1000)) // run -1 warms up
  }
  return rates.sort((a, b) => a - b)[Math.floor(RUNS / 2)]
}

const stateBytes = Buffer.byteLength(JSON.stringify(state))
console.log(
  `state: ${MESSAGES} messages, ${stateBytes.toLocaleString('en')} bytes of JSON; median of ${RUNS} runs of ${RUN_MS} ms\n`,
)
const rows = {}
for (const [name, recipe] of Object.entries(actions)) {
  const patches = libraries.mutative(recipe)
  const mutative = opsPerSecond(libraries.mutative, recipe)
  const immer = opsPerSecond(libraries.immer, recipe)
  rows[name] = {
    patches: patches.length,
    'patch bytes': Buffer.byteLength(JSON.stringify(patches)),
    'mutative ops/s': Math.round(mutative),
    'immer ops/s': Math.round(immer),
    'mutative / immer': Number((mutative / immer).toFixed(2)),
  }
}
console.table(rows)
