// The server's OpenTelemetry metrics, read through the SDK's in-memory exporter while client processes call, and pinned against the server README.
import { readFile } from 'node:fs/promises'
import { metrics as globalMetrics } from '@opentelemetry/api'
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { connect } from '@ipc-state/client'
import { createServer, fileStorage, type MeterProviderLike, type Storage } from '@ipc-state/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startClients } from '../src/processes/client-fixture.js'
import { fixtureAddress } from '../src/processes/fixture-env.js'
import { ask, type FixtureProcess, tempSocketRoot } from '../src/processes/processes.js'
import { WireClient } from '../src/peers/wire-client.js'
import { tempDataDir } from '../src/storage/data-dir.js'
import { type TestStore, testStore } from '../src/stores/test-store.js'

const README = new URL('../../server/README.md', import.meta.url)

/** An SDK meter provider whose metrics are read on demand, never by the clock. */
function meterHarness() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 2 ** 31 - 1 })
  const provider = new MeterProvider({ readers: [reader] })
  /** Every metric the provider holds now, by name. */
  const collect = async (): Promise<Map<string, MetricData>> => {
    exporter.reset()
    await reader.forceFlush()
    const found = new Map<string, MetricData>()
    for (const resource of exporter.getMetrics())
      for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) found.set(metric.descriptor.name, metric)
    return found
  }
  return { provider, collect, [Symbol.asyncDispose]: () => provider.shutdown() }
}

type Collected = Map<string, MetricData>

/** The value of `name`'s data point with exactly `attributes`: a sum's or gauge's number, a histogram's count. */
function pointValue(collected: Collected, name: string, attributes: Record<string, string> = {}): number | undefined {
  const metric = collected.get(name)
  if (metric === undefined) return undefined
  const point = metric.dataPoints.find((p) => JSON.stringify(sorted(p.attributes)) === JSON.stringify(sorted(attributes)))
  if (point === undefined) return undefined
  if (metric.dataPointType === DataPointType.HISTOGRAM) return (point.value as { count: number }).count
  return point.value as number
}

const sorted = (attributes: object): [string, unknown][] => Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b))

/** Every attribute set `name` has a data point for. */
const seriesOf = (collected: Collected, name: string): Record<string, unknown>[] =>
  (collected.get(name)?.dataPoints ?? []).map((point) => ({ ...point.attributes }))

/** A storage whose writes wait while it is held: calls then wait for their change to be stored. */
function holdableStorage(inner: Storage) {
  let held: Promise<void> | undefined
  let release = () => {}
  const storage: Storage = {
    open: (context) => inner.open(context),
    migrate: (image) => inner.migrate(image),
    write: async (entries) => {
      if (held !== undefined) await held
      return inner.write(entries)
    },
    close: () => inner.close(),
  }
  return {
    storage,
    hold: () => {
      held = new Promise((resolve) => {
        release = resolve
      })
    },
    release: () => {
      held = undefined
      release()
    },
  }
}

/** Waits for the client fixture's next `connected` status after event index `after`. */
const reconnected = (client: FixtureProcess, after: number) =>
  client.waitFor((e) => e.event === 'status' && e.status === 'connected', { after })

const call = (client: FixtureProcess, action: string, input?: unknown) =>
  ask(client, { op: 'call', action, ...(input === undefined ? {} : { input }) })

describe('metrics through an OpenTelemetry meter provider', () => {
  it('changes each documented metric as client processes call, connect, resync and wait on the storage', async () => {
    await using meters = meterHarness()
    await using root = await tempSocketRoot()
    await using data = await tempDataDir()
    const address = fixtureAddress(root)
    // Any SDK provider is a MeterProviderLike as it is.
    const meterProvider: MeterProviderLike = meters.provider
    const held = holdableStorage(fileStorage({ dir: data.dir }))
    let server = await createServer({ store: testStore, ...address, storage: held.storage, meterProvider })

    await using clients = startClients(2, root)
    const [caller, watcher] = [clients[0]!, clients[1]!]
    await Promise.all(clients.map((client) => client.waitFor('connected')))
    let collected = await meters.collect()
    expect(pointValue(collected, 'ipc_state.server.connections')).toBe(2)
    const transmitted = pointValue(collected, 'ipc_state.server.io', { 'network.io.direction': 'transmit' }) ?? 0
    const received = pointValue(collected, 'ipc_state.server.io', { 'network.io.direction': 'receive' }) ?? 0
    expect(transmitted).toBeGreaterThan(0)
    expect(received).toBeGreaterThan(0)

    expect(await call(caller, 'increment', 2)).toMatchObject({ value: 2 })
    expect(await call(caller, 'increment', 'x')).toMatchObject({ code: 'BAD_ARGUMENTS' })
    expect(await call(caller, 'explode', 'no')).toMatchObject({ code: 'ACTION_FAILED' })
    expect(await call(caller, 'no-such-action')).toMatchObject({ code: 'UNKNOWN_ACTION' })
    expect(await call(caller, 'another-made-up-name')).toMatchObject({ code: 'UNKNOWN_ACTION' })
    collected = await meters.collect()
    const calls = (action: string, outcome: string) =>
      pointValue(collected, 'ipc_state.server.calls', { 'ipc_state.action': action, 'ipc_state.outcome': outcome })
    expect(calls('increment', 'ok')).toBe(1)
    expect(calls('increment', 'BAD_ARGUMENTS')).toBe(1)
    expect(calls('explode', 'ACTION_FAILED')).toBe(1)
    // Names a client made up share one series: they cannot grow the number of series.
    expect(calls('(unknown)', 'UNKNOWN_ACTION')).toBe(2)
    const actionsSeen = new Set(seriesOf(collected, 'ipc_state.server.calls').map((a) => a['ipc_state.action']))
    expect([...actionsSeen].sort()).toEqual(['(unknown)', 'explode', 'increment'])
    expect(
      pointValue(collected, 'ipc_state.server.call.duration', { 'ipc_state.action': 'increment', 'ipc_state.outcome': 'ok' }),
    ).toBe(1)
    expect(pointValue(collected, 'ipc_state.server.storage.write.duration', { 'ipc_state.outcome': 'ok' })).toBeGreaterThan(0)
    expect(pointValue(collected, 'ipc_state.server.io', { 'network.io.direction': 'transmit' })).toBeGreaterThan(transmitted)
    expect(pointValue(collected, 'ipc_state.server.io', { 'network.io.direction': 'receive' })).toBeGreaterThan(received)
    expect(pointValue(collected, 'ipc_state.server.queue.depth')).toBe(0)

    // Calls whose change waits for the storage are the queue.
    held.hold()
    const burst = ask(caller, { op: 'burst', action: 'increment', count: 3 })
    await vi.waitFor(async () => expect(pointValue(await meters.collect(), 'ipc_state.server.queue.depth')).toBe(3), {
      timeout: 20_000,
    })
    held.release()
    expect(await burst).toMatchObject({ values: [3, 4, 5] })
    collected = await meters.collect()
    expect(pointValue(collected, 'ipc_state.server.queue.depth')).toBe(0)
    expect(calls('increment', 'ok')).toBe(4)

    // A restart: both replicas come back as instances the server knows, and get the state again.
    const afterClose = [caller.events.length, watcher.events.length]
    await server.close()
    collected = await meters.collect()
    expect(pointValue(collected, 'ipc_state.server.resyncs', { 'ipc_state.resync.cause': 'reconnect' })).toBeUndefined()
    server = await createServer({ store: testStore, ...address, storage: fileStorage({ dir: data.dir }), meterProvider })
    try {
      await Promise.all([reconnected(caller, afterClose[0]!), reconnected(watcher, afterClose[1]!)])
      collected = await meters.collect()
      expect(pointValue(collected, 'ipc_state.server.resyncs', { 'ipc_state.resync.cause': 'reconnect' })).toBe(2)
      expect(pointValue(collected, 'ipc_state.server.connections')).toBe(2)

      // A replica that asks for the state, as one that missed a change does.
      await using wire = await WireClient.hello(server.path, { binary: false, replica: true })
      await wire.send({ type: 'state/get', data: { id: 1 } })
      expect((await wire.response(1)).message.data.result).toMatchObject({ state: { counter: 5 } })
      collected = await meters.collect()
      expect(pointValue(collected, 'ipc_state.server.resyncs', { 'ipc_state.resync.cause': 'request' })).toBe(1)
      expect(pointValue(collected, 'ipc_state.server.connections')).toBe(3)
    } finally {
      await server.close()
    }
  })

  it('has exactly the instruments, units, kinds and attributes the server README documents', async () => {
    await using meters = meterHarness()
    await using root = await tempSocketRoot()
    await using data = await tempDataDir()
    const address = fixtureAddress(root)
    await using server = await createServer({
      store: testStore,
      ...address,
      storage: fileStorage({ dir: data.dir }),
      meterProvider: meters.provider,
    })
    await using clients = startClients(1, root)
    const client = clients[0]!
    await client.waitFor('connected')
    await call(client, 'increment', 1)
    await call(client, 'nope')
    await using wire = await WireClient.hello(server.path, { binary: false, replica: true })
    await wire.send({ type: 'state/get', data: { id: 1 } })
    await wire.response(1)
    const collected = await meters.collect()

    const documented = await documentedMetrics()
    const measured = [...collected.values()].map((metric) => ({
      name: metric.descriptor.name,
      kind: kindOf(metric),
      unit: metric.descriptor.unit,
      attributes: [...new Set(metric.dataPoints.flatMap((point) => Object.keys(point.attributes)))].sort(),
    }))
    expect(measured.sort((a, b) => a.name.localeCompare(b.name))).toEqual(documented)
  })

  it('records to the global provider when an SDK registered one, and to none with meterProvider: false', async () => {
    await using meters = meterHarness()
    await using root = await tempSocketRoot()
    const address = fixtureAddress(root)
    expect(globalMetrics.setGlobalMeterProvider(meters.provider)).toBe(true)
    try {
      {
        await using server = await createServer({ store: testStore, ...address })
        await using client = await connect<TestStore>({ ...address })
        await client.actions.increment(1)
        expect(server.version).toBe(1)
        expect(
          pointValue(await meters.collect(), 'ipc_state.server.calls', {
            'ipc_state.action': 'increment',
            'ipc_state.outcome': 'ok',
          }),
        ).toBe(1)
      }
      const transmit = { 'network.io.direction': 'transmit' }
      const before = pointValue(await meters.collect(), 'ipc_state.server.io', transmit)
      await using server = await createServer({ store: testStore, ...address, meterProvider: false })
      await using client = await connect<TestStore>({ ...address })
      await client.actions.increment(1)
      expect(server.version).toBe(1)
      const collected = await meters.collect()
      expect(pointValue(collected, 'ipc_state.server.calls', { 'ipc_state.action': 'increment', 'ipc_state.outcome': 'ok' })).toBe(
        1,
      )
      expect(pointValue(collected, 'ipc_state.server.io', transmit)).toBe(before)
    } finally {
      globalMetrics.disable()
    }
  })

  it('refuses a meterProvider that is not one, naming the option', async () => {
    await using root = await tempSocketRoot()
    await expect(
      createServer({ store: testStore, ...fixtureAddress(root), meterProvider: {} as unknown as MeterProviderLike }),
    ).rejects.toThrow(new TypeError('meterProvider must be an OpenTelemetry MeterProvider, or false'))
  })
})

afterEach(() => {
  globalMetrics.disable()
})

/** The rows of the server README's table of metrics: name, kind, unit and attributes, by name. */
async function documentedMetrics() {
  const readme = await readFile(README, 'utf8')
  const section = readme.split('\n## Metrics')[1]?.split('\n## ')[0] ?? ''
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `ipc_state.'))
    .map((line) => line.split('|').map((cell) => cell.trim()))
  expect(rows.length).toBeGreaterThan(0)
  return rows
    .map(([, name, kind, unit, attributes]) => ({
      name: unquote(name!),
      kind: KINDS[kind!] ?? `unknown kind ${kind}`,
      unit: unquote(unit!),
      attributes:
        attributes === '' || attributes === '-' ? [] : [...attributes!.matchAll(/`([^`]+)`(?=:)/g)].map((m) => m[1]!).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

const unquote = (cell: string): string => cell.replace(/^`|`$/g, '')

/** The kinds the README names. */
const KINDS: Record<string, string> = {
  counter: 'counter',
  histogram: 'histogram',
  gauge: 'gauge',
  'up-down counter': 'up-down counter',
}

/** An exported metric's kind, in the README's words. */
function kindOf(metric: MetricData): string {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'up-down counter'
    case DataPointType.GAUGE:
      return 'gauge'
    case DataPointType.HISTOGRAM:
      return 'histogram'
    default:
      return `unexpected ${metric.dataPointType}`
  }
}
