// Checks an action's input against its schema, bounded in the values it counts and the issues it sends back.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { StandardSchemaV1 } from '@standard-schema/spec'

/** The default of the server's `maxInputValues`. */
export const MAX_INPUT_VALUES = 100_000

/** At most this many schema issues go back to the caller: a huge bad input must not make a huger answer. */
const MAX_ISSUES = 20
/** Each issue's message and path segment is cut to this many characters. */
const MAX_ISSUE_TEXT = 200

const cut = (text: string): string => (text.length > MAX_ISSUE_TEXT ? `${text.slice(0, MAX_ISSUE_TEXT)}…` : text)

/** A schema issue as it is sent to the caller: its message and the path to the bad part. */
const wireIssue = (issue: StandardSchemaV1.Issue) => ({
  message: cut(String(issue.message)),
  path: issue.path?.slice(0, 32).map((part) => {
    const key = typeof part === 'object' ? part.key : part
    return typeof key === 'string' ? cut(key) : typeof key === 'number' ? key : cut(String(key))
  }),
})

function describeIssues(issues: ReturnType<typeof wireIssue>[]): string {
  return issues
    .slice(0, 5)
    .map(({ message, path }) => (path?.length ? `${path.join('.')}: ${message}` : message))
    .join('; ')
}

/**
 * Checks `input` of action `name` against its `schema`, and returns the schema's output (or a
 * promise of it, from an asynchronous schema). An input of more than `maxInputValues` values is
 * refused before the schema sees it; at most 20 issues go back, each cut to 200 characters.
 * @throws IpcStateError `BAD_ARGUMENTS`
 */
export function checkWithSchema(name: string, schema: StandardSchemaV1, input: unknown, maxInputValues: number): unknown {
  if (countValues(input, maxInputValues) > maxInputValues) {
    throw new IpcStateError(
      ErrorCode.BAD_ARGUMENTS,
      `Invalid input for action ${JSON.stringify(name)}: it holds more than ${maxInputValues} values (option maxInputValues)`,
      { data: { limit: maxInputValues } },
    )
  }
  const result = schema['~standard'].validate(input)
  const settle = (outcome: StandardSchemaV1.Result<unknown>): unknown => {
    if (outcome.issues === undefined) return outcome.value
    const issues = outcome.issues.slice(0, MAX_ISSUES).map(wireIssue)
    const more = outcome.issues.length - issues.length
    throw new IpcStateError(
      ErrorCode.BAD_ARGUMENTS,
      `Invalid input for action ${JSON.stringify(name)}: ${describeIssues(issues)}` +
        (more > 0 ? ` (and ${more} more issues)` : ''),
      { data: more > 0 ? { issues, more } : { issues } },
    )
  }
  return result instanceof Promise ? result.then(settle) : settle(result)
}

/** The JSON values in `value`, itself included; counting stops once past `limit`. Iterative. */
function countValues(value: unknown, limit: number): number {
  let count = 0
  const stack: unknown[] = [value]
  while (stack.length > 0 && count <= limit) {
    const next = stack.pop()
    count += 1
    if (typeof next !== 'object' || next === null) continue
    for (const child of Array.isArray(next) ? next : Object.values(next)) {
      // Scalars are counted here, so the stack holds only containers.
      if (typeof child === 'object' && child !== null) stack.push(child)
      else if (++count > limit) break
    }
  }
  return count
}
