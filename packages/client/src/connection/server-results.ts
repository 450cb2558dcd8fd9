// Checks the results a server gives the client's own handshake, resync, `server/info` and `changes/list`, which the wire
// decoder passes on as they came: a server that answers with another shape is refused, not believed.
import { type ChangesListResult, ErrorCode, IpcStateError, type ServerInfoResult } from '@ipc-state/protocol'
import {
  CHANGES_LIST_MAX,
  isPatch,
  MAX_NAME_LENGTH,
  PROTOCOL_VERSION,
  SERVER_INFO_MAX_ACTIONS,
  SERVER_INFO_MAX_SCHEMA_BYTES,
  SERVER_INFO_MAX_SCHEMAS_BYTES,
  utf8ByteLength,
} from '@ipc-state/protocol/wire'

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
  if (result.batch !== undefined && typeof result.batch !== 'boolean') return 'a batch flag that is not a boolean'
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

const isCount = isVersion

/** The bytes `value` takes as JSON, `Infinity` when it cannot be written (nested past the stack). */
function jsonBytes(value: unknown): number {
  try {
    return utf8ByteLength(JSON.stringify(value))
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** What is wrong with one action of a `server/info` result, or `undefined` when nothing is. */
function actionProblem(action: unknown, index: number): string | undefined {
  if (!isObject(action)) return `action ${index}, which is not an object`
  const { name, hasInputSchema, inputSchema, inputSchemaOmitted } = action
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    return `action ${index} without a name of 1 to ${MAX_NAME_LENGTH} characters`
  }
  if (typeof hasInputSchema !== 'boolean') return `action ${index} without a boolean hasInputSchema`
  if (inputSchema !== undefined && !isObject(inputSchema)) return `action ${index} with an input schema that is not an object`
  if (inputSchemaOmitted !== undefined && typeof inputSchemaOmitted !== 'string') {
    return `action ${index} with an inputSchemaOmitted that is not a string`
  }
  return undefined
}

/**
 * What is wrong with the result of a `server/info` (`ServerInfoResult`), or `undefined` when it is
 * one: an object with a protocol, an epoch, a version and a list of connections, and, from a server
 * that lists its actions, at most `SERVER_INFO_MAX_ACTIONS` of them, each with a name a call could
 * give, and input schemas within `SERVER_INFO_MAX_SCHEMA_BYTES` each and
 * `SERVER_INFO_MAX_SCHEMAS_BYTES` in all: what the caller is handed is what the protocol promises.
 */
export function serverInfoProblem(result: unknown): string | undefined {
  if (!isObject(result)) return 'a result that is not an object'
  if (typeof result.protocol !== 'number') return 'no protocol'
  const problem = storeProblem(result, false)
  if (problem !== undefined) return problem
  if (!Array.isArray(result.connections)) return 'no list of connections'
  const { actions, actionCount } = result
  if (actions === undefined && actionCount === undefined) return undefined
  if (!Array.isArray(actions)) return 'an action list that is not an array'
  if (actions.length > SERVER_INFO_MAX_ACTIONS) return `${actions.length} actions, more than ${SERVER_INFO_MAX_ACTIONS}`
  if (!isCount(actionCount) || actionCount < actions.length) return 'an action count that does not count the actions listed'
  let schemaBytes = 0
  for (const [index, action] of actions.entries()) {
    const actionIssue = actionProblem(action, index)
    if (actionIssue !== undefined) return actionIssue
    const { inputSchema } = action as { inputSchema?: unknown }
    if (inputSchema === undefined) continue
    const bytes = jsonBytes(inputSchema)
    if (bytes > SERVER_INFO_MAX_SCHEMA_BYTES)
      return `action ${index} with an input schema of more than ${SERVER_INFO_MAX_SCHEMA_BYTES} bytes`
    schemaBytes += bytes
    if (schemaBytes > SERVER_INFO_MAX_SCHEMAS_BYTES)
      return `input schemas of more than ${SERVER_INFO_MAX_SCHEMAS_BYTES} bytes in all`
  }
  return undefined
}

/**
 * `result` as a `ServerInfoResult`, once {@link serverInfoProblem} finds nothing wrong with it.
 * @throws IpcStateError `BAD_REQUEST` naming what is wrong: the server does not speak this protocol
 */
export function checkedServerInfo(result: unknown, path: string): ServerInfoResult {
  const problem = serverInfoProblem(result)
  if (problem !== undefined)
    throw new IpcStateError(ErrorCode.BAD_REQUEST, `The server at ${path} answered server/info with ${problem}`)
  return result as ServerInfoResult
}

/** What is wrong with one change of a `changes/list` result, or `undefined` when nothing is. */
function recentChangeProblem(change: unknown, index: number, previous: number): string | undefined {
  if (!isObject(change)) return `change ${index}, which is not an object`
  const { version, at, action, clientId, patches, patchesOmitted } = change
  if (!isVersion(version) || version <= previous) return `change ${index} without a version above the one before it`
  if (typeof at !== 'number' || !Number.isFinite(at)) return `change ${index} without a time`
  if (action !== undefined && typeof action !== 'string') return `change ${index} with an action that is not a string`
  if (clientId !== undefined && typeof clientId !== 'string') return `change ${index} with a clientId that is not a string`
  if (!Array.isArray(patches) || !patches.every(isPatch)) return `change ${index} with malformed patches`
  if (patchesOmitted !== undefined && patchesOmitted !== true) return `change ${index} with a patchesOmitted that is not true`
  return undefined
}

/**
 * What is wrong with the result of a `changes/list` (`ChangesListResult`), or `undefined` when it
 * is one: an epoch, a version, and at most `CHANGES_LIST_MAX` changes in version order, each with
 * a time and well-formed patches.
 */
export function changesListProblem(result: unknown): string | undefined {
  if (!isObject(result)) return 'a result that is not an object'
  const problem = storeProblem(result, false)
  if (problem !== undefined) return problem
  const { changes } = result
  if (!Array.isArray(changes)) return 'no list of changes'
  if (changes.length > CHANGES_LIST_MAX) return `${changes.length} changes, more than ${CHANGES_LIST_MAX}`
  let previous = -1
  for (const [index, change] of changes.entries()) {
    const changeIssue = recentChangeProblem(change, index, previous)
    if (changeIssue !== undefined) return changeIssue
    previous = (change as { version: number }).version
  }
  return undefined
}

/**
 * `result` as a `ChangesListResult`, once {@link changesListProblem} finds nothing wrong with it.
 * @throws IpcStateError `BAD_REQUEST` naming what is wrong: the server does not speak this protocol
 */
export function checkedChangesList(result: unknown, path: string): ChangesListResult {
  const problem = changesListProblem(result)
  if (problem !== undefined)
    throw new IpcStateError(ErrorCode.BAD_REQUEST, `The server at ${path} answered changes/list with ${problem}`)
  return result as ChangesListResult
}
