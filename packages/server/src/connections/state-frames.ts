// Frames that carry the whole state, encoded once per version and shared by every snapshot sent.
import {
  BINARY_HEADER_BYTES,
  BINARY_MIN_BYTES,
  encodeServerMessage,
  packEnvelope,
  packValue,
  writeBinaryHeader,
  type ServerMessage,
} from '@ipc-state/protocol/wire'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { type MemoryBudget, SharedBytes } from './memory-budget.js'

/**
 * Stands for the state inside a message given to protocol's encoder; the encoded state is spliced
 * in where its JSON appears. A NUL cannot appear unescaped in JSON, nor this text in an envelope.
 */
const STATE_MARK = '\u0000ipc-state:state\u0000'
const STATE_MARK_JSON = JSON.stringify(STATE_MARK)
const STATE_MARK_PACKED = packEnvelope(STATE_MARK)

function indexOf(bytes: Uint8Array, part: Uint8Array): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(part)
}

/**
 * One frame that carries the whole state, in three writes: the state's bytes are shared. `binary()`
 * gives the same message as a binary frame, in three writes too, or `undefined` when the state is
 * too small to gain from one or MessagePack could not carry it exactly.
 */
export type SnapshotFrame = readonly [prefix: string, state: SharedBytes, suffix: string] & {
  binary(): readonly [prefix: SharedBytes, state: SharedBytes, suffix: SharedBytes] | undefined
}

/** The state of one version, encoded: as JSON, and as MessagePack once a binary frame asks (null: it cannot be). */
interface CacheEntry {
  version: number
  state: SharedBytes
  packed?: SharedBytes | null
}

/** What a {@link StateFrames} reads the state from. */
export interface SnapshotSource {
  readonly version: number
  readonly state: unknown
}

/**
 * The state's JSON, encoded once per version and shared by every `hello`, `state/get` and
 * `getSharedData` at that version: twenty replicas connecting at once to a 45 MB state cost one
 * encode and 45 MB, not twenty of each. Dropped as soon as the version moves; a connection still
 * receiving the old bytes keeps them alive, and the memory budget then counts them.
 */
export class StateFrames {
  readonly #source: SnapshotSource
  readonly #budget: MemoryBudget
  #entry: CacheEntry | undefined

  constructor(source: SnapshotSource, budget: MemoryBudget) {
    this.#source = source
    this.#budget = budget
  }

  /** The version whose state is held encoded, if any. */
  get version(): number | undefined {
    return this.#entry?.version
  }

  /**
   * The frame `build(state)` describes, with the current state encoded at most once per version.
   * @throws IpcStateError `INTERNAL_ERROR` when the state or the message cannot be encoded
   */
  frame(build: (state: unknown) => ServerMessage): SnapshotFrame {
    const state = this.#state()
    const entry = this.#entry!
    let encoded: string
    try {
      encoded = encodeServerMessage(build(STATE_MARK))
    } catch (error) {
      throw new IpcStateError(ErrorCode.INTERNAL_ERROR, `A snapshot message could not be encoded: ${String(error)}`, {
        cause: error,
      })
    }
    const at = encoded.indexOf(STATE_MARK_JSON)
    const frame = [encoded.slice(0, at), state, encoded.slice(at + STATE_MARK_JSON.length)] as const
    return Object.assign(frame, { binary: () => this.#binary(entry, build) })
  }

  /** The binary form of `build(state)`: its envelope packed around the state packed once per version. */
  #binary(entry: CacheEntry, build: (state: unknown) => ServerMessage): [SharedBytes, SharedBytes, SharedBytes] | undefined {
    // Packed from the state of the frame's own version only: a frame kept past a change stays JSON.
    if (entry !== this.#entry || entry.state.bytes.length < BINARY_MIN_BYTES || entry.packed === null) return undefined
    if (entry.packed === undefined) {
      const packed = packValue(this.#source.state)
      entry.packed = packed === undefined ? null : new SharedBytes(packed, 'snapshot')
      if (entry.packed === null) return undefined
      this.#budget.pin(entry.packed)
    }
    const envelope = packEnvelope(build(STATE_MARK))
    const at = indexOf(envelope, STATE_MARK_PACKED)
    if (at === -1) return undefined
    const prefix = new Uint8Array(BINARY_HEADER_BYTES + at)
    prefix.set(envelope.subarray(0, at), BINARY_HEADER_BYTES)
    const suffix = envelope.slice(at + STATE_MARK_PACKED.length)
    writeBinaryHeader(prefix, 0, at + entry.packed.bytes.length + suffix.length)
    return [new SharedBytes(prefix), entry.packed, new SharedBytes(suffix)]
  }

  /**
   * The current state as UTF-8 JSON, encoded at most once per version (the bytes every snapshot
   * frame shares).
   * @throws IpcStateError `INTERNAL_ERROR` when the state cannot be encoded
   */
  stateJson(): Uint8Array {
    return this.#state().bytes
  }

  /** Forgets the encoded state: the version moved. */
  drop(): void {
    const entry = this.#entry
    this.#entry = undefined
    if (entry !== undefined) this.#budget.unpin(entry.state)
    if (entry?.packed) this.#budget.unpin(entry.packed)
  }

  #state(): SharedBytes {
    const { version } = this.#source
    if (this.#entry?.version === version) return this.#entry.state
    this.drop()
    let bytes: Buffer
    try {
      bytes = Buffer.from(JSON.stringify(this.#source.state), 'utf8')
    } catch (error) {
      // The state's size is checked at every commit (see StoreRuntime), so this is a bug or no memory.
      throw new IpcStateError(
        ErrorCode.INTERNAL_ERROR,
        `The state at version ${version} could not be encoded: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      )
    }
    const state = new SharedBytes(bytes, 'snapshot')
    this.#budget.pin(state)
    this.#entry = { version, state }
    return state
  }
}
