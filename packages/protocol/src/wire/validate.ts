// What every frame passes before its type is looked at: bounds, safe values, and the refusal of a bad one.
import type { WireFrame } from './binary-frame.js'
import { Defaults } from '../defaults.js'
import { maxFrameContainers, parseJsonFrame } from './frame-cost.js'
import { decodeBinaryBody } from './json-pack.js'
import { ErrorCode, IpcStateError } from '../errors.js'

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

export type Json = Record<string, unknown>

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `object[key]` when `object` has it as its own property, else `undefined`: a message's fields are
 * read so that nothing a prototype holds can answer for one the sender left out.
 */
export function own(object: Json, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

/** Whether `value` is a request id: a non-negative safe integer. */
export function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** Whether `value` is an action name, client id or epoch: a string of 1 to {@link MAX_NAME_LENGTH} characters. */
export function isName(value: unknown): value is string {
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
export function ownFields(data: unknown): unknown {
  return isObject(data) ? Object.assign(Object.create(null) as Json, data) : data
}

/** The request id `data` carries, if it is an object with a valid own `id`. */
export function requestIdOf(data: unknown): number | undefined {
  if (!isObject(data)) return undefined
  const id = own(data, 'id')
  return isRequestId(id) ? id : undefined
}

/** A refused frame: `BAD_REQUEST`, with the request id when there is one to answer. */
export const badRequest = (message: string, id?: number): DecodeResult<never> => ({
  ok: false,
  ...(id === undefined ? {} : { id }),
  error: new IpcStateError(ErrorCode.BAD_REQUEST, message),
})

/**
 * Parses a frame into its `type` and `data`, or the refusal of it: within its bounds of objects and
 * depth, and, from a client, free of what could reach a prototype.
 */
export function parseEnvelope(
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
export type Check<M> = (fields: unknown, data: unknown) => M | string
