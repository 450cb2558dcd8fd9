/** What one decoded frame may cost in objects and arrays, beyond its bytes, text or binary alike. */
import { ErrorCode, IpcStateError } from '../errors.js'
import { DEFAULT_MAX_FRAME_BYTES } from './frame.js'

/**
 * Bytes of a frame limit that pay for one object or array. An object costs some 60 bytes of heap
 * (and its slot in an array 8 more) for one byte of MessagePack or three of JSON (`{},`): without
 * a bound of their own, a 16 MiB frame of empty objects costs over a gigabyte and seconds of the
 * event loop. With one container per 16 bytes of the limit, a decoded frame's containers cost at
 * most about 4 times the limit (a 16 MiB frame: a million, some 70 MB), and its other values (a
 * byte of frame at least, 8 of heap) are bounded by its bytes. A frame that could hold more is
 * counted before it is decoded: refusing it costs a pass over its bytes. A JSON value uses fewer
 * than one container per 16 bytes unless most of its objects are nearly empty; only a frame near
 * the limit could hold that many.
 */
export const FRAME_BYTES_PER_CONTAINER = 16

/** The fewest containers any frame may hold, however small its limit: a hello needs a few. */
const MIN_CONTAINERS = 1024

/** How many objects and arrays one frame may hold, for a frame limit of `maxFrameBytes`. */
export function maxFrameContainers(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): number {
  return Math.max(MIN_CONTAINERS, Math.floor(maxFrameBytes / FRAME_BYTES_PER_CONTAINER))
}

/** The `FRAME_TOO_LARGE` error of a frame that holds more than `limit` objects and arrays. */
export function tooManyContainers(limit: number): IpcStateError {
  return new IpcStateError(
    ErrorCode.FRAME_TOO_LARGE,
    `A frame holds more than ${limit} objects and arrays, one per ${FRAME_BYTES_PER_CONTAINER} bytes of its size limit (option maxFrameBytes)`,
    { data: { containers: limit } },
  )
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b

/**
 * Parses a JSON text frame, refusing it before `JSON.parse` pays for it when it opens more than
 * `maxContainers` objects and arrays. Only a text long enough to hold that many is scanned: the
 * count costs nothing for the frames of every day.
 * @throws IpcStateError `FRAME_TOO_LARGE` past `maxContainers`; SyntaxError from `JSON.parse`
 */
export function parseJsonFrame(text: string, maxContainers: number): unknown {
  // Each container takes two characters at least.
  if (text.length > 2 * maxContainers && countContainers(text, maxContainers) > maxContainers) {
    throw tooManyContainers(maxContainers)
  }
  return JSON.parse(text)
}

/** Counts `{` and `[` outside strings, stopping once past `limit`. */
function countContainers(text: string, limit: number): number {
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      // Skips to the closing quote: one not escaped by an odd run of backslashes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === BACKSLASH) i++
        else if (d === QUOTE) break
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++count > limit) return count
    }
  }
  return count
}
