// The part of OpenTelemetry's metrics API the server uses, written out here so that no type of the optional @opentelemetry/api appears in ours.

/** Attributes of one measurement: the server gives only strings from bounded sets. */
export type MetricAttributes = Readonly<Record<string, string>>

/** What an instrument is created with. */
export interface MetricInstrumentOptions {
  description?: string
  unit?: string
  advice?: { explicitBucketBoundaries?: number[] }
}

/** A counter or an up-down counter: `Counter` in `@opentelemetry/api`. */
export interface MetricCounter {
  /** Adds `value` (negative only on an up-down counter) to the series of `attributes`. */
  add(value: number, attributes?: MetricAttributes): void
}

/** `Histogram` in `@opentelemetry/api`. */
export interface MetricHistogram {
  /** Records one measurement, `value`, in the series of `attributes`. */
  record(value: number, attributes?: MetricAttributes): void
}

/** What an observable instrument's callback reports to: `ObservableResult` in `@opentelemetry/api`. */
export interface MetricObservableResult {
  /** Reports the current `value` of the series of `attributes`. */
  observe(value: number, attributes?: MetricAttributes): void
}

/** An asynchronous instrument, read when the metrics are collected: `Observable` in `@opentelemetry/api`. */
export interface MetricObservable {
  /** Has `callback` report the instrument's values at each collection. */
  addCallback(callback: (result: MetricObservableResult) => void): void
  /** Stops calling `callback`, as the server does when it closes. */
  removeCallback(callback: (result: MetricObservableResult) => void): void
}

/** `Meter` in `@opentelemetry/api`, as far as the server uses one. */
export interface MetricMeter {
  /** A counter, which only goes up. */
  createCounter(name: string, options?: MetricInstrumentOptions): MetricCounter
  /** A histogram, of durations here. */
  createHistogram(name: string, options?: MetricInstrumentOptions): MetricHistogram
  /** A gauge read at each collection. */
  createObservableGauge(name: string, options?: MetricInstrumentOptions): MetricObservable
  /** An up-down counter read at each collection. */
  createObservableUpDownCounter(name: string, options?: MetricInstrumentOptions): MetricObservable
}

/**
 * An OpenTelemetry `MeterProvider` (from `@opentelemetry/api` 1.3 or later, such as the SDK's), as
 * far as the server uses one: any of them fits this type.
 */
export interface MeterProviderLike {
  /** The meter named `name` (the server asks for `@ipc-state/server`). */
  getMeter(name: string, version?: string): MetricMeter
}
