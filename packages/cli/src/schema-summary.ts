// A JSON Schema as one short line a person reads, such as `string, 1 to 500 characters` or `{ id: string, n?: number }`.

type Schema = Record<string, unknown>

/** How deep nested objects, arrays and unions are spelled out before `…` stands for the rest. */
const MAX_DEPTH = 3

/** The longest summary, in characters; longer ones end with `…`. */
export const MAX_SUMMARY_LENGTH = 200

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value)

/** `min to max`, `at least min`, `at most max`, or nothing; the safe-integer bounds zod adds say nothing. */
function range(min: unknown, max: unknown, unit = ''): string | undefined {
  const bound = (value: unknown) =>
    typeof value === 'number' && Math.abs(value) !== Number.MAX_SAFE_INTEGER ? `${value}${unit}` : undefined
  const low = bound(min)
  const high = bound(max)
  if (low !== undefined && high !== undefined) return `${low} to ${high}`
  if (low !== undefined) return `at least ${low}`
  if (high !== undefined) return `at most ${high}`
  return undefined
}

const JSON_IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function summarizeType(type: string, schema: Schema, depth: number): string {
  switch (type) {
    case 'string': {
      const parts = ['string']
      const length = range(schema.minLength, schema.maxLength, '')
      if (length !== undefined) parts.push(`${length} characters`)
      if (typeof schema.format === 'string') parts.push(schema.format)
      if (typeof schema.pattern === 'string') parts.push(`matching /${schema.pattern}/`)
      return parts.join(', ')
    }
    case 'number':
    case 'integer': {
      const bounds = range(schema.minimum ?? schema.exclusiveMinimum, schema.maximum ?? schema.exclusiveMaximum)
      return bounds === undefined ? type : `${type}, ${bounds}`
    }
    case 'array': {
      if (depth >= MAX_DEPTH) return 'array'
      const item = isSchema(schema.items) ? summarize(schema.items, depth + 1) : 'any'
      const items = /[ ,|]/.test(item) ? `(${item})[]` : `${item}[]`
      const count = range(schema.minItems, schema.maxItems)
      return count === undefined ? items : `${items}, ${count} items`
    }
    case 'object': {
      if (depth >= MAX_DEPTH) return '{…}'
      const properties = isSchema(schema.properties) ? Object.entries(schema.properties) : []
      const required = new Set(Array.isArray(schema.required) ? schema.required : [])
      const fields = properties.map(([key, value]) => {
        const name = JSON_IDENTIFIER.test(key) ? key : JSON.stringify(key)
        return `${name}${required.has(key) ? '' : '?'}: ${isSchema(value) ? summarize(value, depth + 1) : 'any'}`
      })
      if (isSchema(schema.additionalProperties)) fields.push(`[key: string]: ${summarize(schema.additionalProperties, depth + 1)}`)
      return fields.length === 0 ? 'object' : `{ ${fields.join(', ')} }`
    }
    default:
      return type
  }
}

function summarize(schema: Schema, depth: number): string {
  if ('const' in schema) return JSON.stringify(schema.const) ?? 'any'
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value) ?? 'null').join(' | ')
  const union = schema.anyOf ?? schema.oneOf
  if (Array.isArray(union)) {
    if (depth >= MAX_DEPTH) return '…'
    return union.map((member) => (isSchema(member) ? summarize(member, depth + 1) : 'any')).join(' | ')
  }
  if (typeof schema.type === 'string') return summarizeType(schema.type, schema, depth)
  if (Array.isArray(schema.type)) return schema.type.map((type) => summarizeType(String(type), schema, depth)).join(' | ')
  if (typeof schema.$ref === 'string') return schema.$ref === '#' ? 'itself' : `see ${schema.$ref}`
  return 'any'
}

/**
 * `schema` as one line: its type with its main bounds (`integer, 1 to 10`), an object's fields
 * (`{ id: string, note?: string }`), a union's members (`string | number`), an enum's values; deep
 * parts as `…`, and at most `MAX_SUMMARY_LENGTH` characters. The whole schema is what
 * `ipc-state actions --json` prints.
 */
export function summarizeSchema(schema: unknown): string {
  const text = isSchema(schema) ? summarize(schema, 0) : 'any'
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH - 1)}…` : text
}
