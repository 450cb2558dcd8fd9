// The server's OpenTelemetry instruments, and the few hooks its calls, connections and storage report through.
import { isErrorCode } from '@ipc-state/protocol'
import type {
  MeterProviderLike,
  MetricAttributes,
  MetricCounter,
  MetricHistogram,
  MetricObservable,
  MetricObservableResult,
} from './meter-provider.js'

/** The name of the meter the server's instruments belong to. */
export const METER_NAME = '@ipc-state/server'

/**
 * The instruments, as the server README's table documents them: a test holds the two together.
 * Durations are in seconds and bytes in `By`, as OpenTelemetry's conventions ask.
 */
export const MetricName = {
  calls: 'ipc_state.server.calls',
  callDuration: 'ipc_state.server.call.duration',
  queueDepth: 'ipc_state.server.queue.depth',
  connections: 'ipc_state.server.connections',
  resyncs: 'ipc_state.server.resyncs',
  io: 'ipc_state.server.io',
  storageWriteDuration: 'ipc_state.server.storage.write.duration',
} as const

/** The attribute that names a call's action, and the value that stands for every name the store does not have. */
export const ACTION_ATTRIBUTE = 'ipc_state.action'
export const UNKNOWN_ACTION = '(unknown)'
/** The attribute that names an outcome: `ok`, `conflict` (storage writes only), or an error code. */
export const OUTCOME_ATTRIBUTE = 'ipc_state.outcome'

/** Why the server sent a replica the whole state again. */
export type ResyncCause = 'reconnect' | 'request'

// Seconds, from 50 µs (an answer from memory) to 10 s (a stalled disk).
const DURATION_BUCKETS = [
  0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

const RECEIVE: MetricAttributes = Object.freeze({ 'network.io.direction': 'receive' })
const TRANSMIT: MetricAttributes = Object.freeze({ 'network.io.direction': 'transmit' })
const RESYNC: Readonly<Record<ResyncCause, MetricAttributes>> = Object.freeze({
  reconnect: Object.freeze({ 'ipc_state.resync.cause': 'reconnect' }),
  request: Object.freeze({ 'ipc_state.resync.cause': 'request' }),
})

/** What the observable instruments read when the metrics are collected. */
export interface MetricSources {
  /** Connections served now. */
  connections(): number
  /** Calls from clients taken and not answered yet. */
  queueDepth(): number
}

/**
 * The server's instruments on one meter. Every hook takes numbers and names the server already
 * holds, and finds its attributes in a table made once per action and outcome: recording
 * allocates nothing, and a name no action has (a client may send any) adds no series.
 * A server without a meter provider makes none of this, and its hooks are not called.
 */
export class ServerMetrics {
  readonly #calls: MetricCounter
  readonly #callDuration: MetricHistogram
  readonly #resyncs: MetricCounter
  readonly #io: MetricCounter
  readonly #storageWrites: MetricHistogram
  readonly #queueDepth: MetricObservable
  readonly #connections: MetricObservable
  /** Attributes by action (the store's, or {@link UNKNOWN_ACTION}), then by outcome. */
  readonly #callAttributes = new Map<string, Map<string, MetricAttributes>>()
  readonly #storageAttributes = new Map<string, MetricAttributes>()
  readonly #actions: ReadonlySet<string>
  #sources: MetricSources | undefined
  readonly #observeQueue = (result: MetricObservableResult) => {
    if (this.#sources !== undefined) result.observe(this.#sources.queueDepth())
  }
  readonly #observeConnections = (result: MetricObservableResult) => {
    if (this.#sources !== undefined) result.observe(this.#sources.connections())
  }

  /** @param actions the store's action names: the only ones that name a series */
  constructor(provider: MeterProviderLike, actions: Iterable<string>) {
    this.#actions = new Set(actions)
    const meter = provider.getMeter(METER_NAME)
    this.#calls = meter.createCounter(MetricName.calls, {
      description: 'Action calls answered, by action and outcome (ok, or the error code answered)',
      unit: '{call}',
    })
    this.#callDuration = meter.createHistogram(MetricName.callDuration, {
      description: 'Time from an action call reaching the server to its answer, its change stored first',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    })
    this.#queueDepth = meter.createObservableGauge(MetricName.queueDepth, {
      description: 'Action calls from clients taken and not answered yet: waiting their turn, or their change waiting to be stored',
      unit: '{call}',
    })
    this.#connections = meter.createObservableUpDownCounter(MetricName.connections, {
      description: 'Connections served now',
      unit: '{connection}',
    })
    this.#resyncs = meter.createCounter(MetricName.resyncs, {
      description: 'Whole states sent again to a replica: on its reconnect, or when it asked after missing a change',
      unit: '{resync}',
    })
    this.#io = meter.createCounter(MetricName.io, {
      description: 'Bytes read from and written to client connections',
      unit: 'By',
    })
    this.#storageWrites = meter.createHistogram(MetricName.storageWriteDuration, {
      description: 'Time one write of a batch of changes to the storage took, by outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    })
  }

  /**
   * Starts the observable instruments on what they read, once the server has made it: until
   * {@link close}, every collection reads them.
   */
  observe(sources: MetricSources): void {
    this.#sources = sources
    this.#queueDepth.addCallback(this.#observeQueue)
    this.#connections.addCallback(this.#observeConnections)
  }

  /** The clock a call's or a write's start is read on, in milliseconds. */
  now(): number {
    return performance.now()
  }

  /** A call of `action`, taken at `startedAt` (see {@link now}), was answered with `outcome`: `ok` or an error code. */
  called(action: string, outcome: string, startedAt: number): void {
    const attributes = this.#callAttributesOf(action, outcome)
    this.#calls.add(1, attributes)
    this.#callDuration.record((performance.now() - startedAt) / 1000, attributes)
  }

  /** The server sent a replica the whole state again. */
  resynced(cause: ResyncCause): void {
    this.#resyncs.add(1, RESYNC[cause])
  }

  /** Bytes read from a connection. */
  received(bytes: number): void {
    this.#io.add(bytes, RECEIVE)
  }

  /** Bytes written to a connection. */
  sent(bytes: number): void {
    this.#io.add(bytes, TRANSMIT)
  }

  /** A storage write that started at `startedAt` ended with `outcome`: `ok`, `conflict` or an error code. */
  stored(outcome: string, startedAt: number): void {
    const known = outcome === 'ok' || outcome === 'conflict' ? outcome : knownCode(outcome)
    let attributes = this.#storageAttributes.get(known)
    if (attributes === undefined) {
      attributes = Object.freeze({ [OUTCOME_ATTRIBUTE]: known })
      this.#storageAttributes.set(known, attributes)
    }
    this.#storageWrites.record((performance.now() - startedAt) / 1000, attributes)
  }

  /** Stops reporting the observable instruments: a closed server holds no connection and no call. */
  close(): void {
    if (this.#sources === undefined) return
    this.#queueDepth.removeCallback(this.#observeQueue)
    this.#connections.removeCallback(this.#observeConnections)
    this.#sources = undefined
  }

  #callAttributesOf(action: string, outcome: string): MetricAttributes {
    const name = this.#actions.has(action) ? action : UNKNOWN_ACTION
    let byOutcome = this.#callAttributes.get(name)
    if (byOutcome === undefined) {
      byOutcome = new Map()
      this.#callAttributes.set(name, byOutcome)
    }
    const known = outcome === 'ok' ? outcome : knownCode(outcome)
    let attributes = byOutcome.get(known)
    if (attributes === undefined) {
      attributes = Object.freeze({ [ACTION_ATTRIBUTE]: name, [OUTCOME_ATTRIBUTE]: known })
      byOutcome.set(known, attributes)
    }
    return attributes
  }
}

/** An error code as an attribute: one of the stable codes, whatever an action threw. */
const knownCode = (code: string): string => (isErrorCode(code) ? code : 'INTERNAL_ERROR')
