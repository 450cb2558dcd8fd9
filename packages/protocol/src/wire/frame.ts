// node-ipc's text frames, a JSON message followed by `\f`, and the decoder that cuts a stream into them.
import { Defaults } from '../defaults.js'
import { ErrorCode, IpcStateError } from '../errors.js'

/** node-ipc's frame delimiter: every frame is `JSON.stringify({ type, data })` followed by it. */
export const FRAME_DELIMITER = '\f'

/** The default bound on one frame, in bytes of UTF-8. */
export const DEFAULT_MAX_FRAME_BYTES: number = Defaults.MAX_FRAME_BYTES

/** Encodes one message in node-ipc's wire format. Throws if `data` is not JSON-serialisable. */
export function encodeFrame(type: string, data: unknown): string {
  return JSON.stringify({ type, data }) + FRAME_DELIMITER
}

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest frame accepted, in bytes. Checked while reading: a frame still incomplete past
   * this size is refused before the rest of it arrives.
   * @default DEFAULT_MAX_FRAME_BYTES (16 MiB)
   */
  maxFrameBytes?: number
  /**
   * Counts the UTF-8 bytes of a string. Node callers pass `Buffer.byteLength`.
   * @default a portable UTF-8 length count
   */
  byteLength?: (text: string) => number
}

/** Counts the bytes `text` takes in UTF-8. */
export function utf8ByteLength(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/**
 * Splits a stream of text into `\f`-delimited frames. Unlike node-ipc's own reader, every complete
 * frame is returned as soon as it arrives, whatever follows it in the same read, and a frame that
 * grows past the limit is refused while it is still arriving.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number
  readonly #byteLength: (text: string) => number
  #pending: string[] = []
  #pendingBytes = 0

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new TypeError(`maxFrameBytes must be a positive integer, got ${String(max)}`)
    }
    this.maxFrameBytes = max
    this.#byteLength = options.byteLength ?? utf8ByteLength
  }

  /** Bytes held for a frame that has not ended yet. */
  get pendingBytes(): number {
    return this.#pendingBytes
  }

  /**
   * Takes the next chunk of the stream and returns the frames it completes, in order. Empty frames
   * are skipped.
   *
   * @throws IpcStateError `FRAME_TOO_LARGE` when a frame passes `maxFrameBytes`; the decoder then
   *   holds nothing and the caller should close the stream, since its framing is lost.
   */
  push(chunk: string): string[] {
    const frames: string[] = []
    let start = 0
    let end = chunk.indexOf(FRAME_DELIMITER)
    while (end !== -1) {
      const piece = chunk.slice(start, end)
      this.#reserve(piece)
      const frame = this.#pending.length === 0 ? piece : this.#pending.join('') + piece
      this.reset()
      if (frame.length > 0) frames.push(frame)
      start = end + 1
      end = chunk.indexOf(FRAME_DELIMITER, start)
    }
    if (start < chunk.length) {
      const rest = start === 0 ? chunk : chunk.slice(start)
      this.#reserve(rest)
      this.#pending.push(rest)
    }
    return frames
  }

  /** Drops whatever partial frame is held. */
  reset(): void {
    this.#pending = []
    this.#pendingBytes = 0
  }

  #reserve(piece: string): void {
    const size = this.#pendingBytes + this.#byteLength(piece)
    if (size > this.maxFrameBytes) this.#tooLarge(size)
    this.#pendingBytes = size
  }

  #tooLarge(size: number): never {
    this.reset()
    throw frameTooLarge(size, this.maxFrameBytes)
  }
}

/** The `FRAME_TOO_LARGE` error of a frame known to be at least `size` bytes, over `limit`. */
export function frameTooLarge(size: number, limit: number): IpcStateError {
  return new IpcStateError(
    ErrorCode.FRAME_TOO_LARGE,
    `A frame of at least ${size} bytes exceeds the limit of ${limit} bytes (option maxFrameBytes)`,
    { data: { limit } },
  )
}
