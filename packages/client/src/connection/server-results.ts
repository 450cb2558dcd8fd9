// Checks the results a server gives the client's own handshake and resync, which the wire decoder
// passes on as they came: a server that answers with another shape is refused, not believed.
import { PROTOCOL_VERSION } from '@ipc-state/protocol/wire'

type Fields = Record<string, unknown>

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value)

const isVersion = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0

/** What is wrong with an epoch, version and state, or `undefined` when nothing is. */
function storeProblem(result: Fields, withState: boolean): string | undefined {
  if (typeof result.epoch !== 'string' || result.epoch === '') return 'no epoch'
  if (!isVersion(result.version))
    return `version ${JSON.stringify(result.version) ?? 'undefined'}, which is not a non-negative integer`
  // JSON has no `undefined`: a state that is present is some value, null included.
  if (withState && (!Object.hasOwn(result, 'state') || result.state === undefined)) return 'no state'
  return undefined
}

/**
 * What is wrong with the result of a hello (`HelloResult`), or `undefined` when it is one: a
 * protocol, an epoch and a version, the state when the client asked for a replica, and well-typed
 * optional fields.
 */
export function helloResultProblem(result: unknown, replica: boolean): string | undefined {
  if (!isObject(result)) return 'a result that is not an object'
  if (result.protocol !== PROTOCOL_VERSION) return `protocol ${JSON.stringify(result.protocol) ?? 'undefined'}`
  const problem = storeProblem(result, replica)
  if (problem !== undefined) return problem
  if (result.binary !== undefined && typeof result.binary !== 'boolean') return 'a binary flag that is not a boolean'
  const { maxFrameBytes } = result
  if (maxFrameBytes !== undefined && !(Number.isSafeInteger(maxFrameBytes) && (maxFrameBytes as number) > 0)) {
    return 'a frame limit that is not a positive integer'
  }
  return undefined
}

/** What is wrong with the result of a `state/get` (`StateGetResult`), or `undefined` when it is one. */
export function snapshotProblem(result: unknown): string | undefined {
  if (!isObject(result)) return 'a result that is not an object'
  return storeProblem(result, true)
}
