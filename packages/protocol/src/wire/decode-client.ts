// The checks of each message a client may send, and the decoder a server reads frames with.
import { ClientMessageType, type ClientMessage, type HelloRequest } from '../messages.js'
import type { WireFrame } from './binary-frame.js'
import {
  MAX_NAME_LENGTH,
  badRequest,
  isName,
  isObject,
  isRequestId,
  ownFields,
  parseEnvelope,
  requestIdOf,
  type Check,
  type DecodeOptions,
  type DecodeResult,
} from './validate.js'

const clientChecks = new Map<string, Check<ClientMessage>>([
  [
    ClientMessageType.Hello,
    (data) => {
      if (!isObject(data) || !isRequestId(data.id)) return '"hello" needs a numeric "id"'
      if (typeof data.protocol !== 'number') return '"hello" needs a numeric "protocol"'
      if (!isName(data.clientId)) return `"hello" needs a "clientId" of 1 to ${MAX_NAME_LENGTH} characters`
      if (typeof data.replica !== 'boolean') return '"hello" needs a boolean "replica"'
      if (data.instanceId !== undefined && !isName(data.instanceId)) {
        return `"hello" needs an "instanceId" of 1 to ${MAX_NAME_LENGTH} characters when it has one`
      }
      if (data.binary !== undefined && typeof data.binary !== 'boolean') return '"hello" needs a boolean "binary" when it has one'
      if (data.batch !== undefined && typeof data.batch !== 'boolean') return '"hello" needs a boolean "batch" when it has one'
      const hello: HelloRequest = { id: data.id, protocol: data.protocol, clientId: data.clientId, replica: data.replica }
      if (data.instanceId !== undefined) hello.instanceId = data.instanceId
      if (data.binary === true) hello.binary = true
      if (data.batch === true) hello.batch = true
      return { type: ClientMessageType.Hello, data: hello }
    },
  ],
  [
    ClientMessageType.StateGet,
    (data) => {
      if (!isObject(data) || !isRequestId(data.id)) return '"state/get" needs a numeric "id"'
      return { type: ClientMessageType.StateGet, data: { id: data.id } }
    },
  ],
  [
    ClientMessageType.ActionCall,
    (data) => {
      if (!isObject(data) || !isRequestId(data.id)) return '"action/call" needs a numeric "id"'
      if (!isName(data.action)) return `"action/call" needs an "action" name of 1 to ${MAX_NAME_LENGTH} characters`
      return {
        type: ClientMessageType.ActionCall,
        data: Object.hasOwn(data, 'input')
          ? { id: data.id, action: data.action, input: data.input }
          : { id: data.id, action: data.action },
      }
    },
  ],
  [
    ClientMessageType.ServerInfo,
    (data) => {
      if (!isObject(data) || !isRequestId(data.id)) return '"server/info" needs a numeric "id"'
      return { type: ClientMessageType.ServerInfo, data: { id: data.id } }
    },
  ],
  [
    ClientMessageType.Bye,
    (data) => {
      if (data !== undefined && !isObject(data)) return '"bye" takes no data, or an object'
      return { type: ClientMessageType.Bye, data: {} }
    },
  ],
  [
    ClientMessageType.ChangesList,
    (data) => {
      if (!isObject(data) || !isRequestId(data.id)) return '"changes/list" needs a numeric "id"'
      return { type: ClientMessageType.ChangesList, data: { id: data.id } }
    },
  ],
  [ClientMessageType.SeedGetSharedData, (_fields, data) => ({ type: ClientMessageType.SeedGetSharedData, data })],
])

/**
 * Decodes and validates one frame from a client. Never throws: anything wrong comes back as a
 * `BAD_REQUEST` error, with the request id when the frame had a usable one.
 * @param frame JSON text, or the body of a binary frame (MessagePack), checked the same way
 */
export function decodeClientMessage(frame: WireFrame, options: DecodeOptions = {}): DecodeResult<ClientMessage> {
  const envelope = parseEnvelope(frame, options, true)
  if (Object.hasOwn(envelope, 'ok')) return envelope as DecodeResult<never>
  const { type, data } = envelope as { type: string; data: unknown }
  const id = requestIdOf(data)
  const check = clientChecks.get(type)
  if (check === undefined) return badRequest(`Unknown message type ${JSON.stringify(type.slice(0, MAX_NAME_LENGTH))}`, id)
  const result = check(ownFields(data), data)
  return typeof result === 'string' ? badRequest(result, id) : { ok: true, message: result }
}
