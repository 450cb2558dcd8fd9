// The checks of each message a server may send, and the decoder a client reads frames with.
import type { WireError } from '../errors.js'
import {
  ServerMessageType,
  type Patch,
  type ResponseMessage,
  type ServerMessage,
  type StateChangedNotification,
} from '../messages.js'
import type { WireFrame } from './binary-frame.js'
import {
  MAX_NAME_LENGTH,
  badRequest,
  isName,
  isObject,
  isRequestId,
  own,
  ownFields,
  parseEnvelope,
  requestIdOf,
  type Check,
  type DecodeOptions,
  type DecodeResult,
} from './validate.js'

function isWireError(value: unknown): value is WireError {
  return isObject(value) && typeof own(value, 'code') === 'string' && typeof own(value, 'message') === 'string'
}

/** Whether `value` is a well-formed {@link Patch}. */
export function isPatch(value: unknown): value is Patch {
  if (!isObject(value)) return false
  const path = own(value, 'path')
  if (!Array.isArray(path)) return false
  if (!path.every((key) => typeof key === 'string' || (typeof key === 'number' && Number.isSafeInteger(key)))) {
    return false
  }
  const op = own(value, 'op')
  if (op === 'remove') return true
  return (op === 'add' || op === 'replace') && Object.hasOwn(value, 'value')
}

/** One answer, checked (its own fields, as `ownFields` gives them), or what is wrong with it. */
function checkResponse(data: unknown): ResponseMessage | string {
  if (!isObject(data) || !isRequestId(data.id)) return '"response" needs a numeric "id"'
  if (data.error !== undefined) {
    if (!isWireError(data.error)) return '"response" has a malformed "error"'
    return { id: data.id, error: data.error }
  }
  return { id: data.id, result: data.result }
}

/**
 * A list of answers (a `responses` frame, a batched change's `answers`), each checked as a
 * `response` is: one malformed answer makes the whole list malformed.
 */
function checkResponses(list: unknown, what: string): ResponseMessage[] | string {
  if (!Array.isArray(list) || list.length === 0) return `${what} needs a non-empty array of answers`
  const responses: ResponseMessage[] = []
  for (const item of list) {
    const response = checkResponse(ownFields(item))
    if (typeof response === 'string') return `${what} holds a malformed answer: ${response}`
    responses.push(response)
  }
  return responses
}

const serverChecks = new Map<string, Check<ServerMessage>>([
  [
    ServerMessageType.Response,
    (data) => {
      const response = checkResponse(data)
      return typeof response === 'string' ? response : { type: ServerMessageType.Response, data: response }
    },
  ],
  [
    ServerMessageType.Responses,
    (_fields, data) => {
      const responses = checkResponses(data, '"responses"')
      return typeof responses === 'string' ? responses : { type: ServerMessageType.Responses, data: responses }
    },
  ],
  [
    ServerMessageType.StateChanged,
    (data) => {
      if (!isObject(data) || typeof data.epoch !== 'string' || !isRequestId(data.version)) {
        return '"state/changed" needs an "epoch" and a numeric "version"'
      }
      if (data.from !== undefined && !(isRequestId(data.from) && data.from <= data.version)) {
        return '"state/changed" needs a numeric "from" no greater than its "version" when it has one'
      }
      if (!Array.isArray(data.patches) || !data.patches.every(isPatch)) return '"state/changed" has malformed "patches"'
      if (data.action !== undefined && !isName(data.action)) {
        return `"state/changed" needs an "action" of 1 to ${MAX_NAME_LENGTH} characters when it has one`
      }
      if (data.clientId !== undefined && !isName(data.clientId)) {
        return `"state/changed" needs a "clientId" of 1 to ${MAX_NAME_LENGTH} characters when it has one`
      }
      const answers = data.answers === undefined ? undefined : checkResponses(data.answers, '"state/changed"')
      if (typeof answers === 'string') return answers
      const change: StateChangedNotification = { epoch: data.epoch, version: data.version, patches: data.patches }
      if (data.from !== undefined && data.from !== data.version) change.from = data.from
      if (data.action !== undefined) change.action = data.action
      if (data.clientId !== undefined) change.clientId = data.clientId
      if (answers !== undefined) change.answers = answers
      return { type: ServerMessageType.StateChanged, data: change }
    },
  ],
  [
    ServerMessageType.ServerClosing,
    (data) => ({
      type: ServerMessageType.ServerClosing,
      data: { reason: isObject(data) && typeof data.reason === 'string' ? data.reason : 'server closing' },
    }),
  ],
  [
    ServerMessageType.ProtocolError,
    (data) => {
      if (!isObject(data) || !isWireError(data.error)) return '"protocol/error" needs an "error"'
      return { type: ServerMessageType.ProtocolError, data: { error: data.error, fatal: data.fatal === true } }
    },
  ],
  [ServerMessageType.SeedSharedData, (_fields, data) => ({ type: ServerMessageType.SeedSharedData, data })],
])

/**
 * Decodes and validates one frame from a server. Never throws: anything wrong comes back as a
 * `BAD_REQUEST` error, with the request id when a malformed response carried a usable one.
 * @param frame JSON text, or the body of a binary frame (MessagePack), checked the same way
 */
export function decodeServerMessage(frame: WireFrame, options: DecodeOptions = {}): DecodeResult<ServerMessage> {
  const envelope = parseEnvelope(frame, { ...options, maxDepth: options.maxDepth ?? Number.POSITIVE_INFINITY }, false)
  if (Object.hasOwn(envelope, 'ok')) return envelope as DecodeResult<never>
  const { type, data } = envelope as { type: string; data: unknown }
  const check = serverChecks.get(type)
  if (check === undefined) return badRequest(`Unknown message type ${JSON.stringify(type.slice(0, MAX_NAME_LENGTH))}`)
  const result = check(ownFields(data), data)
  if (typeof result !== 'string') return { ok: true, message: result }
  // A response the client cannot read still names the request it answers, so that request can fail.
  const id = type === ServerMessageType.Response ? requestIdOf(data) : undefined
  return badRequest(result, id)
}
