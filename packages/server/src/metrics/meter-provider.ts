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
  add(value: number, attributes?: MetricAttributes): void
}

/** `Histogram` in `@opentelemetry/api`. */
export interface MetricHistogram {
  record(value: number, attributes?: MetricAttributes): void
}

/** What an observable instrument's callback reports to: `ObservableResult` in `@opentelemetry/api`. */
export interface MetricObservableResult {
  observe(value: number, attributes?: MetricAttributes): void
}

/** An asynchronous instrument, read when the metrics are collected: `Observable` in `@opentelemetry/api`. */
export interface MetricObservable {
  addCallback(callback: (result: MetricObservableResult) => void): void
  removeCallback(callback: (result: MetricObservableResult) => void): void
}

/** `Meter` in `@opentelemetry/api`, as far as the server uses one. */
export interface MetricMeter {
  createCounter(name: string, options?: MetricInstrumentOptions): MetricCounter
  createHistogram(name: string, options?: MetricInstrumentOptions): MetricHistogram
  createObservableGauge(name: string, options?: MetricInstrumentOptions): MetricObservable
  createObservableUpDownCounter(name: string, options?: MetricInstrumentOptions): MetricObservable
}

/**
 * An OpenTelemetry `MeterProvider` (from `@opentelemetry/api` 1.3 or later, such as the SDK's), as
 * far as the server uses one: any of them fits this type.
 */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): MetricMeter
}
