// Binary frames: their header, and the decoder that reads text and binary frames from one stream.
import { DEFAULT_MAX_FRAME_BYTES, frameTooLarge } from './frame.js'
import { ErrorCode, IpcStateError } from '../errors.js'

/**
 * The first byte of a binary frame. A `\f`-delimited JSON frame never starts with it: JSON text may
 * hold a NUL only escaped, and node-ipc's frames start with `{`.
 */
export const BINARY_FRAME_MARKER = 0x00

/** Bytes before a binary frame's body: the marker, then the body's length as a big-endian u32. */
export const BINARY_HEADER_BYTES = 5

const DELIMITER_BYTE = 0x0c

/** One frame read from a stream: JSON text, or the body of a binary frame (MessagePack). */
export type WireFrame = string | Uint8Array

/** Writes a binary frame's header for a body of `length` bytes into `target` at `offset`. */
export function writeBinaryHeader(target: Uint8Array, offset: number, length: number): void {
  target[offset] = BINARY_FRAME_MARKER
  target[offset + 1] = (length >>> 24) & 0xff
  target[offset + 2] = (length >>> 16) & 0xff
  target[offset + 3] = (length >>> 8) & 0xff
  target[offset + 4] = length & 0xff
}

/** Options for {@link WireDecoder}. */
export interface WireDecoderOptions {
  /**
   * The largest frame accepted, in bytes, text or binary. A binary frame that declares more is
   * refused from its header, before anything is allocated for it.
   * @default DEFAULT_MAX_FRAME_BYTES (16 MiB)
   */
  maxFrameBytes?: number
  /** Decodes UTF-8 bytes into text. Node callers pass `(b, s, e) => Buffer.prototype.toString.call(b, 'utf8', s, e)`. */
  decodeText: (bytes: Uint8Array, start: number, end: number) => string
}

/**
 * Splits a byte stream into frames of both kinds: `\f`-delimited JSON text, and binary frames
 * (`0x00`, a u32 length, then that many bytes). A frame's first byte tells which it is. Whatever a
 * frame's kind, the bytes held for it are bounded by `maxFrameBytes` while it is still arriving.
 */
export class WireDecoder {
  readonly maxFrameBytes: number
  readonly #decodeText: WireDecoderOptions['decodeText']
  #pending: Uint8Array[] = []
  #pendingBytes = 0
  /** The partial frame's kind: unknown until its first byte, text, or binary once its header is read. */
  #kind: 'none' | 'text' | 'header' | 'binary' = 'none'
  /** The body length a binary frame declared. */
  #bodyBytes = 0

  constructor(options: WireDecoderOptions) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new TypeError(`maxFrameBytes must be a positive integer, got ${String(max)}`)
    }
    this.maxFrameBytes = max
    this.#decodeText = options.decodeText
  }

  /**
   * Bytes held for a frame that has not ended yet, a binary frame's header included: a frame that
   * stopped right after its header is still unfinished (and `frameTimeout` runs on it).
   */
  get pendingBytes(): number {
    return this.#kind === 'binary' ? BINARY_HEADER_BYTES + this.#pendingBytes : this.#pendingBytes
  }

  /**
   * Takes the next chunk of the stream and returns the frames it completes, in order. Empty text
   * frames are skipped.
   *
   * @throws IpcStateError `FRAME_TOO_LARGE` when a frame passes `maxFrameBytes`, `BAD_REQUEST` when a
   *   binary frame declares an empty body; the decoder then holds nothing and the caller should
   *   close the stream, since its framing is lost.
   */
  push(chunk: Uint8Array): WireFrame[] {
    const frames: WireFrame[] = []
    let at = 0
    while (at < chunk.length) {
      if (this.#kind === 'none') {
        if (chunk[at] === BINARY_FRAME_MARKER) this.#kind = 'header'
        else if (chunk[at] === DELIMITER_BYTE) {
          at++
          continue
        } else this.#kind = 'text'
      }
      at = this.#kind === 'text' ? this.#text(chunk, at, frames) : this.#binary(chunk, at, frames)
    }
    return frames
  }

  /** Drops whatever partial frame is held. */
  reset(): void {
    this.#pending = []
    this.#pendingBytes = 0
    this.#kind = 'none'
    this.#bodyBytes = 0
  }

  #text(chunk: Uint8Array, at: number, frames: WireFrame[]): number {
    const end = chunk.indexOf(DELIMITER_BYTE, at)
    if (end === -1) {
      this.#hold(chunk, at, chunk.length)
      return chunk.length
    }
    this.#reserve(end - at)
    if (this.#pending.length === 0) frames.push(this.#decodeText(chunk, at, end))
    else {
      this.#pending.push(chunk.subarray(at, end))
      const whole = concat(this.#pending, this.#pendingBytes + end - at)
      frames.push(this.#decodeText(whole, 0, whole.length))
    }
    this.reset()
    return end + 1
  }

  #binary(chunk: Uint8Array, at: number, frames: WireFrame[]): number {
    if (this.#kind === 'header') {
      const take = Math.min(BINARY_HEADER_BYTES - this.#pendingBytes, chunk.length - at)
      this.#hold(chunk, at, at + take)
      at += take
      if (this.#pendingBytes < BINARY_HEADER_BYTES) return at
      const header = concat(this.#pending, this.#pendingBytes)
      const length = ((header[1]! << 24) | (header[2]! << 16) | (header[3]! << 8) | header[4]!) >>> 0
      // Checked before anything is held for the body: a hostile length allocates nothing.
      if (length > this.maxFrameBytes) this.#tooLarge(length)
      if (length === 0) {
        this.reset()
        throw new IpcStateError(ErrorCode.BAD_REQUEST, 'A binary frame declared an empty body')
      }
      this.#pending = []
      this.#pendingBytes = 0
      this.#bodyBytes = length
      this.#kind = 'binary'
      if (at === chunk.length) return at
    }
    const end = Math.min(chunk.length, at + this.#bodyBytes - this.#pendingBytes)
    if (this.#pending.length === 0 && end - at === this.#bodyBytes) {
      frames.push(chunk.subarray(at, end))
      this.reset()
      return end
    }
    this.#hold(chunk, at, end)
    if (this.#pendingBytes === this.#bodyBytes) {
      frames.push(concat(this.#pending, this.#pendingBytes))
      this.reset()
    }
    return end
  }

  /** Keeps `chunk[start, end)` for the partial frame, within the limit. */
  #hold(chunk: Uint8Array, start: number, end: number): void {
    if (end === start) return
    this.#reserve(end - start)
    this.#pending.push(chunk.subarray(start, end))
    this.#pendingBytes += end - start
  }

  #reserve(bytes: number): void {
    const size = this.#pendingBytes + bytes
    if (size > this.maxFrameBytes) this.#tooLarge(size)
  }

  #tooLarge(size: number): never {
    this.reset()
    throw frameTooLarge(size, this.maxFrameBytes)
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  const whole = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    whole.set(part, offset)
    offset += part.length
  }
  return whole
}
