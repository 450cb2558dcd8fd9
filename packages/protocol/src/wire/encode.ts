// The typed encoders every frame is written with, and the two hot messages written from JSON encoded once.
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
  const result = valueJson === undefined ? `{"version":${version}}` : `{"value":${valueJson},"version":${version}}`
  return `{"type":"${ServerMessageType.Response}","data":{"id":${id},"result":${result}}}${FRAME_DELIMITER}`
}

/**
 * A change, with its patches already encoded once (`patchesJson`) for every replica, attributed to
 * the action that made it and the client that called it when they are given. A `clientId` of `''`
 * (a change no client called: the server's own call, a migration) is left out, as clients read
 * an attribution only as a non-empty name. Decodes to the same message as `encodeServerMessage`
 * with `{ epoch, version, patches, action?, clientId? }`.
 */
export function encodeStateChanged(
  epoch: string,
  version: number,
  patchesJson: string,
  action?: string,
  clientId?: string,
): string {
  const attribution =
    (action === undefined ? '' : `,"action":${JSON.stringify(action)}`) +
    (clientId === undefined || clientId === '' ? '' : `,"clientId":${JSON.stringify(clientId)}`)
  return `{"type":"${ServerMessageType.StateChanged}","data":{"epoch":${JSON.stringify(epoch)},"version":${version},"patches":${patchesJson}${attribution}}}${FRAME_DELIMITER}`
}
