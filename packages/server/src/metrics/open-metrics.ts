// Which meter provider a server records to: the one its options name, else the global one of @opentelemetry/api, loaded only when asked for.
import type { MeterProviderLike } from './meter-provider.js'
import { METER_NAME, ServerMetrics } from './server-metrics.js'

/** What a server needs of `@opentelemetry/api`: its global provider, and the meter that records nothing. */
interface OpenTelemetryApi {
  metrics: { getMeterProvider(): MeterProviderLike }
  createNoopMeter(): unknown
}

let api: Promise<OpenTelemetryApi | undefined> | undefined

/**
 * `@opentelemetry/api`, loaded once and only by the first server that needs it; `undefined` when it
 * is not installed (it is an optional peer dependency).
 */
function loadApi(): Promise<OpenTelemetryApi | undefined> {
  api ??= import('@opentelemetry/api').then(
    (loaded) => loaded as unknown as OpenTelemetryApi,
    () => undefined,
  )
  return api
}

/**
 * The server's instruments on `option`'s meter provider: the one given, none for `false`, else the
 * global provider of `@opentelemetry/api` when that package is installed and an SDK registered a
 * provider there. Without one, `undefined`: the server then measures nothing at all, rather than
 * record into instruments that drop everything.
 * @param actions the store's action names
 */
export async function openMetrics(
  option: MeterProviderLike | false | undefined,
  actions: Iterable<string>,
): Promise<ServerMetrics | undefined> {
  if (option === false) return undefined
  if (option !== undefined) return new ServerMetrics(option, actions)
  const loaded = await loadApi()
  if (loaded === undefined) return undefined
  const provider = loaded.metrics.getMeterProvider()
  if (provider.getMeter(METER_NAME) === loaded.createNoopMeter()) return undefined
  return new ServerMetrics(provider, actions)
}
