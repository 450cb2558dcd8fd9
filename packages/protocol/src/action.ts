// `action(schema, run)`: an action whose input type comes from its Standard Schema, written once.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { ActionContext } from './define-store.js'

/**
 * Where an action made by {@link action} keeps its schema. Registered, so that a store module that
 * loaded another copy of this package still hands its schemas to the server's copy.
 */
const INPUT_SCHEMA = Symbol.for('ipc-state.action-input')

/**
 * An action made by {@link action}: callers pass what schema `Schema` accepts (its input type), and
 * the action runs on what it returns (its output type, after defaults and transforms).
 */
export type SchemaAction<S, Schema extends StandardSchemaV1, R> = (
  state: S,
  input: StandardSchemaV1.InferInput<Schema>,
  context: ActionContext,
) => R

const isStandardSchema = (value: unknown): value is StandardSchemaV1 =>
  // Callable schemas (ArkType's) are functions carrying the same `~standard` property.
  (typeof value === 'object' || typeof value === 'function') && value !== null && '~standard' in value

/**
 * Makes an action whose input is checked by `schema` (zod, valibot, ArkType… any Standard Schema)
 * and typed by it: `run` receives the schema's output, and clients pass what the schema accepts, so
 * the input type is written once. `defineStore` hands the schema to the server as if it were given
 * in `inputs`; input that fails it is answered with `BAD_ARGUMENTS` and `run` does not run.
 *
 * Called directly (as a unit test may, on a plain object) the action skips the schema: `run` gets
 * the input as it is.
 *
 * @example
 * ```ts
 * import { z } from 'zod'
 *
 * export const chatStore = defineStore({
 *   initialState: { messages: [] as { text: string; from: string }[] },
 *   actions: {
 *     // `text` is a string because the schema says so: no annotation to keep in step with it.
 *     send: action(z.string().min(1).max(500), (state, text, context) => {
 *       state.messages.push({ text, from: context.clientId })
 *     }),
 *   },
 * })
 * ```
 * @param schema the input's schema; its output is what `run` receives
 * @param run the action: it mutates the draft `state`, may return a JSON-serialisable result, and
 *   receives the checked input and the {@link ActionContext}
 * @throws TypeError when `schema` is not a Standard Schema or `run` is not a function
 */
export function action<Schema extends StandardSchemaV1, S, R>(
  schema: Schema,
  run: (state: S, input: StandardSchemaV1.InferOutput<Schema>, context: ActionContext) => R,
): SchemaAction<S, Schema, R> {
  if (!isStandardSchema(schema)) throw new TypeError('action: schema must be a Standard Schema (zod, valibot, arktype…)')
  if (typeof run !== 'function') throw new TypeError('action: run must be a function')
  // A function of its own, so one `run` can serve under two schemas.
  const checked = (state: S, input: unknown, context: ActionContext): R =>
    run(state, input as StandardSchemaV1.InferOutput<Schema>, context)
  Object.defineProperty(checked, INPUT_SCHEMA, { value: schema })
  return checked
}

/** The schema {@link action} gave `fn`, if it made it. */
export function actionSchema(fn: unknown): StandardSchemaV1 | undefined {
  if (typeof fn !== 'function' || !Object.hasOwn(fn, INPUT_SCHEMA)) return undefined
  const schema = (fn as unknown as Record<symbol, unknown>)[INPUT_SCHEMA]
  return isStandardSchema(schema) ? schema : undefined
}
