// The typed encoders every frame is written with, and the hot messages written from JSON encoded once.
import { FRAME_DELIMITER } from './frame.js'
import { ServerMessageType, type ClientMessage, type ServerMessage } from '../messages.js'

/**
 * Encodes a message a client sends. The type ties each `type` to its data, so a frame the server
 * would refuse as malformed does not compile.
 * @throws TypeError when the data holds something JSON cannot (a BigInt, a cycle)
 */
export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify({ type: message.type, data: message.data }) + FRAME_DELIMITER
}

/**
 * Encodes a message a server sends.
 * @throws TypeError when the data holds something JSON cannot (a BigInt, a cycle)
 */
export function encodeServerMessage(message: ServerMessage): string {
  return JSON.stringify({ type: message.type, data: message.data }) + FRAME_DELIMITER
}

/**
 * The answer to an action call, with the action's result already encoded once (`valueJson`,
 * `undefined` when it returned nothing): the hot path of every call. Decodes to the same message
 * as `encodeServerMessage` with `{ id, result: { value, version } }`.
 */
export function encodeActionResult(id: number, version: number, valueJson: string | undefined): string {
  return encodeResponse(actionResultJson(id, version, valueJson))
}

/**
 * The data of the answer to an action call, `{ id, result: { value, version } }`, as JSON, with the
 * action's result already encoded once (`valueJson`, `undefined` when it returned nothing): what
 * {@link encodeResponse}, {@link encodeResponses} and {@link encodeStateChanged} frame.
 */
export function actionResultJson(id: number, version: number, valueJson: string | undefined): string {
  const result = valueJson === undefined ? `{"version":${version}}` : `{"value":${valueJson},"version":${version}}`
  return `{"id":${id},"result":${result}}`
}

/** A `response` frame around the data of one answer, already encoded (`{ id, result }` or `{ id, error }`). */
export function encodeResponse(responseJson: string): string {
  return `{"type":"${ServerMessageType.Response}","data":${responseJson}}${FRAME_DELIMITER}`
}

/**
 * The answers of one tick in one frame, each already encoded as {@link encodeResponse} takes it:
 * a `responses` frame for a client that offered `batch` in its hello, a `response` for one answer.
 */
export function encodeResponses(responsesJson: readonly string[]): string {
  if (responsesJson.length === 1) return encodeResponse(responsesJson[0]!)
  return `{"type":"${ServerMessageType.Responses}","data":[${responsesJson.join(',')}]}${FRAME_DELIMITER}`
}

/** The patches of several changes, each a JSON array, as one JSON array, in their order. */
export function joinPatches(patchesJson: readonly string[]): string {
  if (patchesJson.length === 1) return patchesJson[0]!
  let joined = ''
  for (const json of patchesJson) {
    // Each is `[...]`: its items go into the one array; an empty one adds nothing.
    if (json.length <= 2) continue
    joined += joined === '' ? json.slice(1, -1) : `,${json.slice(1, -1)}`
  }
  return `[${joined}]`
}

/** What a change frame may say besides its version and patches (see {@link encodeStateChanged}). */
export interface ChangeFrameParts {
  /** The action that made the change (every change of a batch). */
  action?: string | undefined
  /** The client that called it; `''` is left out. */
  clientId?: string | undefined
  /** The first version of a batch, when below `version`. */
  from?: number | undefined
  /** The answers the change carries, each encoded as {@link encodeResponse} takes it. */
  answersJson?: readonly string[] | undefined
}

/**
 * A change, with its patches already encoded once (`patchesJson`) for every replica, attributed to
 * the action that made it and the client that called it when they are given. A `clientId` of `''`
 * (a change no client called: the server's own call, a migration) is left out, as clients read
 * an attribution only as a non-empty name. Decodes to the same message as `encodeServerMessage`
 * with `{ epoch, version, from?, patches, action?, clientId?, answers? }`: with `from` below
 * `version` the change covers versions `from` to `version` (a batch, for a client that offered
 * `batch`), and `patchesJson` holds the patches of them all, in order.
 */
export function encodeStateChanged(epoch: string, version: number, patchesJson: string, parts: ChangeFrameParts = {}): string {
  const { action, clientId, from, answersJson } = parts
  const range = from === undefined || from === version ? '' : `,"from":${from}`
  const attribution =
    (action === undefined ? '' : `,"action":${JSON.stringify(action)}`) +
    (clientId === undefined || clientId === '' ? '' : `,"clientId":${JSON.stringify(clientId)}`)
  const answers = answersJson === undefined || answersJson.length === 0 ? '' : `,"answers":[${answersJson.join(',')}]`
  return `{"type":"${ServerMessageType.StateChanged}","data":{"epoch":${JSON.stringify(epoch)},"version":${version}${range},"patches":${patchesJson}${attribution}${answers}}}${FRAME_DELIMITER}`
}
