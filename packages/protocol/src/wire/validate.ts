import type { WireFrame } from './binary-frame.js'
import { Defaults } from '../defaults.js'
import { maxFrameContainers, parseJsonFrame } from './frame-cost.js'
import { decodeBinaryBody } from './json-pack.js'
import { ErrorCode, IpcStateError, type WireError } from '../errors.js'
import {
  ClientMessageType,
  ServerMessageType,
  type ClientMessage,
  type HelloRequest,
  type Patch,
  type ServerMessage,
} from '../messages.js'

/** The default bound on how deeply a message's JSON may nest. */
export const DEFAULT_MAX_DEPTH: number = Defaults.MAX_DEPTH

/** Longest accepted action name, client id and epoch, in characters. */
export const MAX_NAME_LENGTH: number = Defaults.MAX_NAME_LENGTH

/** The outcome of decoding one frame. */
export type DecodeResult<M> =
  | { ok: true; message: M }
  | {
      ok: false
      /** The request id, when the frame carried a valid one, so the error can answer it. */
      id?: number
      error: IpcStateError
    }

/** Options for {@link decodeClientMessage} and {@link decodeServerMessage}. */
export interface DecodeOptions {
  /**
   * How deeply the frame's JSON may nest.
   * @default DEFAULT_MAX_DEPTH (64)
   */
  maxDepth?: number
  /**
   * How many objects and arrays the frame may hold; past it, the frame is refused with
   * `FRAME_TOO_LARGE` before it is decoded whole. Pass `maxFrameContainers(maxFrameBytes)`.
   * @default maxFrameContainers() (for the default frame limit, 16 MiB)
   */
  maxContainers?: number
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `object[key]` when `object` has it as its own property, else `undefined`: a message's fields are
 * read so that nothing a prototype holds can answer for one the sender left out.
 */
function own(object: Json, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

/** Whether `value` is a request id: a non-negative safe integer. */
export function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH
}

/**
 * Returns whether `value` nests no deeper than `maxDepth` arrays and objects. Iterative, so hostile
 * nesting cannot overflow the stack.
 */
export function isWithinDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return true
  const stack: [object, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (depth > maxDepth) return false
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return true
}

/**
 * Why `value` must not reach a server's actions, or `undefined`: it nests deeper than `maxDepth`,
 * or it holds a `__proto__` key, a `constructor` holding `prototype` (what code that merges objects
 * turns into a write to a prototype), or an object that is neither plain nor an array. Iterative.
 */
function findUnsafeValue(value: unknown, maxDepth: number): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const stack: [object, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (depth > maxDepth) return `Message nests deeper than ${maxDepth} levels (option maxDepth)`
    const prototype = Object.getPrototypeOf(node)
    if (Array.isArray(node)) {
      if (prototype !== Array.prototype) return 'Message holds an array with another prototype'
      for (const child of node) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
      continue
    }
    if (prototype !== Object.prototype && prototype !== null) return 'Message holds an object that is not plain'
    for (const key of Object.keys(node)) {
      const child = (node as Json)[key]
      if (key === '__proto__') return 'Message holds a "__proto__" key'
      if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) {
        return 'Message holds a "constructor" key with a "prototype"'
      }
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return undefined
}

/**
 * A message's data with its own fields only, on an object without a prototype: checks read its
 * fields as properties, and no property of `Object.prototype` may answer for one that is missing.
 */
function ownFields(data: unknown): unknown {
  return isObject(data) ? Object.assign(Object.create(null) as Json, data) : data
}

/** The request id `data` carries, if it is an object with a valid own `id`. */
function requestIdOf(data: unknown): number | undefined {
  if (!isObject(data)) return undefined
  const id = own(data, 'id')
  return isRequestId(id) ? id : undefined
}

const badRequest = (message: string, id?: number): DecodeResult<never> => ({
  ok: false,
  ...(id === undefined ? {} : { id }),
  error: new IpcStateError(ErrorCode.BAD_REQUEST, message),
})

function parseEnvelope(
  frame: WireFrame,
  options: DecodeOptions,
  fromClient: boolean,
): { type: string; data: unknown } | DecodeResult<never> {
  let parsed: unknown
  const maxContainers = options.maxContainers ?? maxFrameContainers()
  try {
    parsed = typeof frame === 'string' ? parseJsonFrame(frame, maxContainers) : decodeBinaryBody(frame, maxContainers)
  } catch (error) {
    if (error instanceof IpcStateError) return { ok: false, error }
    return badRequest(typeof frame === 'string' ? 'Frame is not valid JSON' : (error as Error).message)
  }
  const type = isObject(parsed) ? own(parsed, 'type') : undefined
  if (!isObject(parsed) || typeof type !== 'string') {
    return badRequest('Frame must be a JSON object with a string "type"')
  }
  const data = own(parsed, 'data')
  const id = requestIdOf(data)
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH
  // A client's values reach actions, which may merge them into objects of their own.
  if (fromClient) {
    const unsafe = findUnsafeValue(data, maxDepth)
    if (unsafe !== undefined) return badRequest(unsafe, id)
  } else if (Number.isFinite(maxDepth) && !isWithinDepth(data, maxDepth)) {
    return badRequest(`Message nests deeper than ${maxDepth} levels (option maxDepth)`, id)
  }
  return { type, data }
}

/** Checks a message's data: `fields` is its own fields on an object without a prototype, `data` as it came. */
type Check<M> = (fields: unknown, data: unknown) => M | string

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
      const hello: HelloRequest = { id: data.id, protocol: data.protocol, clientId: data.clientId, replica: data.replica }
      if (data.instanceId !== undefined) hello.instanceId = data.instanceId
      if (data.binary === true) hello.binary = true
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

const serverChecks = new Map<string, Check<ServerMessage>>([
  [
    ServerMessageType.Response,
    (data) => {
      if (!isObject(data) || !isRequestId(data.id)) return '"response" needs a numeric "id"'
      if (data.error !== undefined) {
        if (!isWireError(data.error)) return '"response" has a malformed "error"'
        return { type: ServerMessageType.Response, data: { id: data.id, error: data.error } }
      }
      return { type: ServerMessageType.Response, data: { id: data.id, result: data.result } }
    },
  ],
  [
    ServerMessageType.StateChanged,
    (data) => {
      if (!isObject(data) || typeof data.epoch !== 'string' || !isRequestId(data.version)) {
        return '"state/changed" needs an "epoch" and a numeric "version"'
      }
      if (!Array.isArray(data.patches) || !data.patches.every(isPatch)) return '"state/changed" has malformed "patches"'
      if (data.action !== undefined && !isName(data.action)) {
        return `"state/changed" needs an "action" of 1 to ${MAX_NAME_LENGTH} characters when it has one`
      }
      if (data.clientId !== undefined && !isName(data.clientId)) {
        return `"state/changed" needs a "clientId" of 1 to ${MAX_NAME_LENGTH} characters when it has one`
      }
      return {
        type: ServerMessageType.StateChanged,
        data: {
          epoch: data.epoch,
          version: data.version,
          patches: data.patches,
          ...(data.action === undefined ? {} : { action: data.action }),
          ...(data.clientId === undefined ? {} : { clientId: data.clientId }),
        },
      }
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
