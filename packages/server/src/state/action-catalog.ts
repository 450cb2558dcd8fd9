// The store's actions as `server/info` lists them: names, and input JSON Schemas where the schemas can describe themselves.
import type { ServerInfoAction } from '@ipc-state/protocol'
import {
  MAX_NAME_LENGTH,
  SERVER_INFO_MAX_ACTIONS,
  SERVER_INFO_MAX_SCHEMA_BYTES,
  SERVER_INFO_MAX_SCHEMAS_BYTES,
} from '@ipc-state/protocol/wire'

/** What a `server/info` result says of the store's actions. */
export interface ActionCatalog {
  actions: ServerInfoAction[]
  actionCount: number
}

/** A Standard JSON Schema converter, as far as the catalog calls it (`~standard.jsonSchema`). */
interface JsonSchemaConverter {
  input(options: { target: string }): unknown
}

/** The converter a Standard Schema offers, if it offers one. */
function converterOf(schema: unknown): JsonSchemaConverter | undefined {
  const standard = (schema as { '~standard'?: { jsonSchema?: unknown } } | undefined)?.['~standard']
  const converter = standard?.jsonSchema as { input?: unknown } | undefined
  return typeof converter?.input === 'function' ? (converter as JsonSchemaConverter) : undefined
}

/** The input's JSON Schema as JSON text, or `undefined` when the schema cannot describe itself. */
function describeInput(schema: unknown): string | undefined {
  const converter = converterOf(schema)
  if (converter === undefined) return undefined
  try {
    const described = converter.input({ target: 'draft-2020-12' })
    if (typeof described !== 'object' || described === null || Array.isArray(described)) return undefined
    // JSON carries it: whatever JSON cannot hold (a function, a cycle) is dropped or refused here.
    return JSON.stringify(described)
  } catch {
    // Throwing is how a library says a schema (a date, a transform's output…) has no JSON Schema.
    return undefined
  }
}

/**
 * Describes the store's `actions` and their `inputs` schemas for `server/info`, sorted by name: the
 * first {@link SERVER_INFO_MAX_ACTIONS}, each input schema kept within
 * {@link SERVER_INFO_MAX_SCHEMA_BYTES} and all of them within {@link SERVER_INFO_MAX_SCHEMAS_BYTES},
 * so the answer stays small however large the store. Names no call could give (longer than
 * `MAX_NAME_LENGTH`) are counted but not listed.
 */
export function describeActions(actions: object, inputs: object): ActionCatalog {
  const names = Object.keys(actions).sort()
  const listed: ServerInfoAction[] = []
  let schemaBytes = 0
  for (const name of names) {
    if (listed.length >= SERVER_INFO_MAX_ACTIONS) break
    if (name.length > MAX_NAME_LENGTH) continue
    const schema = Object.hasOwn(inputs, name) ? (inputs as Record<string, unknown>)[name] : undefined
    if (schema === undefined) {
      listed.push({ name, hasInputSchema: false })
      continue
    }
    const json = describeInput(schema)
    if (json === undefined) {
      listed.push({ name, hasInputSchema: true, inputSchemaOmitted: 'unsupported' })
      continue
    }
    const bytes = Buffer.byteLength(json)
    if (bytes > SERVER_INFO_MAX_SCHEMA_BYTES || schemaBytes + bytes > SERVER_INFO_MAX_SCHEMAS_BYTES) {
      listed.push({ name, hasInputSchema: true, inputSchemaOmitted: 'too-large' })
      continue
    }
    schemaBytes += bytes
    listed.push({ name, hasInputSchema: true, inputSchema: JSON.parse(json) as Record<string, unknown> })
  }
  return { actions: listed, actionCount: names.length }
}

/**
 * {@link describeActions} made on first use and kept: the store's actions do not change while it
 * runs, and a schema library's conversion is not free.
 */
export function actionCatalog(actions: object, inputs: object): () => ActionCatalog {
  let catalog: ActionCatalog | undefined
  return () => {
    catalog ??= describeActions(actions, inputs)
    return catalog
  }
}
