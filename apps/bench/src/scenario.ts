// What a scenario is: sides that each start their own processes and measure one sample at a time,
// so that the harness can interleave them (A, B, C, A, B, C…).
import type { TempFolder } from './processes/temp-folder.js'
import type { SideKind } from './workers/configs.js'

/** The knobs of a run, from the command line. */
export interface BenchSettings {
  /** Samples of each side. */
  reps: number
  /** Length of one sample of a rate. */
  durationMs: number
  /** Warm-up before each sample. */
  warmupMs: number
  /** Client processes of the durability and 4-process rows. */
  writers: number
  /** Subscriber processes of the fan-out row. */
  subscribers: number
  /** Changes in the journal the start-up row loads. */
  journalChanges: number
  /** Megabytes of state in the snapshot the start-up row loads. */
  snapshotMegabytes: number
}

/** What a scenario's sides may use while they start and measure. */
export interface BenchContext {
  readonly settings: BenchSettings
  readonly temp: TempFolder
  /** The redis-server binary, when there is one. */
  readonly redisBinary: string | undefined
  /** Registers something to close when the scenario ends (last registered, first closed). */
  defer(close: () => unknown): void
  /** A name not used before in this run, for sockets and folders. */
  uniqueName(prefix: string): string
  /** Prints a line of progress. */
  progress(message: string): void
}

/** One figure a scenario measures. */
export interface Metric {
  readonly id: string
  readonly label: string
  readonly unit: string
  /** Whether a larger figure is the better one. */
  readonly better: 'higher' | 'lower'
}

/** One sample: a figure per metric id (a metric a side does not measure is left out). */
export type Sample = Record<string, number>

/** A side once started: measures one sample each time it is asked. */
export interface SideRun {
  measure(): Promise<Sample>
}

/** One side of a comparison: a column of the table, and how to start it. */
export interface ScenarioSide {
  readonly column: SideKind
  /**
   * The row (of the scenario's `variants`) this side's figures go to; a side without one is
   * compared in every row of its scenario.
   */
  readonly variant?: string
  /** Label of the side in progress lines. */
  readonly label: string
  start(context: BenchContext): Promise<SideRun>
}

/** A comparison: its sides are started together and measured interleaved. */
export interface Scenario {
  /** Name on the command line. */
  readonly id: string
  readonly title: string
  readonly metrics: readonly Metric[]
  /** At most this many samples per side, for a scenario whose samples take seconds each. */
  readonly maxReps?: number
  /**
   * Every side needs redis-server (the ipc-state side too, say for its storage): without one, the
   * whole scenario is skipped, not only its Redis column.
   */
  readonly needsRedis?: boolean
  /** Rows of the scenario when its sides differ by more than their column: id → label. */
  readonly variants?: Readonly<Record<string, string>>
  sides(): ScenarioSide[]
}

/** Makes a scenario for a run's settings (its counts show in its labels). */
export type ScenarioFactory = (settings: BenchSettings) => Scenario
