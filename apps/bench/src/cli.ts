// The command line: which scenarios, how many samples, how long, where the results go.
import { parseArgs } from 'node:util'
import type { BenchSettings } from './scenario.js'
import { SCENARIOS } from './scenarios/index.js'

/** What the command line asks for. */
export interface BenchOptions {
  settings: BenchSettings
  /** Scenario ids to run, in run order. */
  scenarios: string[]
  /** Leave Redis out even when redis-server is found. */
  noRedis: boolean
  /** Folder for latest.json and latest.svg. */
  out: string
  /** Folder for a CPU profile of every worker process, when asked for. */
  cpuProf: string | undefined
}

const DEFAULTS: BenchSettings = {
  reps: 5,
  durationMs: 1000,
  warmupMs: 200,
  writers: 4,
  subscribers: 16,
  journalChanges: 1_000_000,
  snapshotMegabytes: 100,
}
/** `--quick`: every scenario with the smallest counts, to check that the harness works. */
const QUICK: BenchSettings = {
  reps: 1,
  durationMs: 30,
  warmupMs: 5,
  writers: 1,
  subscribers: 2,
  journalChanges: 500,
  snapshotMegabytes: 1,
}

/** The `--help` text. */
export function helpText(): string {
  const list = SCENARIOS.map(([id, , summary]) => `  ${id.padEnd(16)} ${summary}`).join('\n')
  return `Usage: pnpm bench [options]

Runs ipc-state against Redis 7 (ioredis), raw node:net and node-ipc 12, each side in its own
processes over Unix sockets, and prints one table of medians (min–max) with ratios to Redis.
Redis rows, and the shared-servers rows, need redis-server on the PATH; without it they are skipped.

Options:
  -s, --scenario <ids>      scenarios to run, comma-separated or repeated (default: all)
      --skip <ids>          scenarios to leave out
  -r, --reps <n>            samples of each side, interleaved (default ${DEFAULTS.reps})
  -d, --duration <ms>       length of one sample (default ${DEFAULTS.durationMs})
      --warmup <ms>         warm-up before each sample (default ${DEFAULTS.warmupMs})
      --writers <n>         client processes of the durability and processes rows (default ${DEFAULTS.writers})
      --subscribers <n>     subscriber processes of the fan-out row (default ${DEFAULTS.subscribers})
      --journal-changes <n> changes in the journal that start-up loads (default ${DEFAULTS.journalChanges})
      --snapshot-mb <n>     megabytes of state in the snapshot that start-up loads (default ${DEFAULTS.snapshotMegabytes})
      --quick               smallest counts everywhere (1 sample, ${QUICK.durationMs} ms), to check the harness
      --no-redis            leave Redis out even when redis-server is found
      --out <dir>           where latest.json and latest.svg go (default apps/bench/results)
      --cpu-prof <dir>      write a CPU profile of every server and client process there
  -h, --help                this text

Scenarios, in run order:
${list}
`
}

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`--${name} takes a positive integer, not ${JSON.stringify(text)}`)
  return value
}

function ids(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  const list = values
    .flatMap((value) => value.split(','))
    .map((id) => id.trim())
    .filter(Boolean)
  for (const id of list) {
    if (!SCENARIOS.some(([known]) => known === id)) throw new TypeError(`unknown scenario ${JSON.stringify(id)}; see --help`)
  }
  return list
}

/** Reads `argv`; `undefined` when --help was asked for. @throws TypeError on a bad option */
export function parseOptions(argv: string[], defaultOut: string): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      scenario: { type: 'string', short: 's', multiple: true },
      skip: { type: 'string', multiple: true },
      reps: { type: 'string', short: 'r' },
      duration: { type: 'string', short: 'd' },
      warmup: { type: 'string' },
      writers: { type: 'string' },
      subscribers: { type: 'string' },
      'journal-changes': { type: 'string' },
      'snapshot-mb': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-redis': { type: 'boolean', default: false },
      out: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return undefined
  const base = values.quick ? QUICK : DEFAULTS
  const only = ids(values.scenario)
  const skip = ids(values.skip) ?? []
  const scenarios = SCENARIOS.map(([id]) => id).filter((id) => (only === undefined || only.includes(id)) && !skip.includes(id))
  return {
    settings: {
      reps: positiveInteger('reps', values.reps, base.reps),
      durationMs: positiveInteger('duration', values.duration, base.durationMs),
      warmupMs: values.warmup === '0' ? 0 : positiveInteger('warmup', values.warmup, base.warmupMs),
      writers: positiveInteger('writers', values.writers, base.writers),
      subscribers: positiveInteger('subscribers', values.subscribers, base.subscribers),
      journalChanges: positiveInteger('journal-changes', values['journal-changes'], base.journalChanges),
      snapshotMegabytes: positiveInteger('snapshot-mb', values['snapshot-mb'], base.snapshotMegabytes),
    },
    scenarios,
    noRedis: values['no-redis'],
    out: values.out ?? defaultOut,
    cpuProf: values['cpu-prof'],
  }
}
