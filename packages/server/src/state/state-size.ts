// Keeps the state, each change and each action result within what a client accepts, checked at commit time.
import { IpcStateError, type Patch } from '@ipc-state/protocol'

/** Room left in every frame limit for the message around the JSON (type, id, epoch, version). */
export const FRAME_ENVELOPE_BYTES = 256

/** What a committed change sends, and the bound on the state's size after it. */
export interface FittedChange {
  patches: Patch[]
  patchesJson: string
  stateBytes: number
}

/**
 * Keeps the state, each change and each action result within `maxStateBytes` (less the envelope),
 * so that every client can always receive them: checked at commit time, not discovered when a
 * replica connects.
 *
 * Why an estimate: encoding the whole state on every action would make each call cost the size of
 * the state. {@link bound} is at least the state's size in bytes of JSON. Each change's patches are
 * encoded anyway (for the replicas), and a state grows by at most their bytes: an added or replaced
 * value appears in its patch, key and all, and a removal only shrinks it. The one exception is an
 * array made longer through `length`, which gains up to five bytes (`null,`) per new slot, and is
 * added as such. So the whole state is encoded again only when the bound reaches the limit, once,
 * and the bound is then reset to the exact size: rarely far from the limit, often right at it.
 * Growing past the limit by appending, call after call, costs no more encodes: while the bound is
 * exact, values added to one container make the state at least that much larger.
 */
export class StateSize {
  /** The most JSON bytes a state, change or result may take. */
  readonly maxJsonBytes: number
  /** At least the state's size in bytes of JSON; exact after each full encode. */
  bound: number
  /** Whether {@link bound} is the state's exact size. */
  #exact = true

  /** @throws TypeError when the initial state alone passes the limit */
  constructor(maxStateBytes: number, initialBytes: number) {
    this.maxJsonBytes = maxStateBytes - FRAME_ENVELOPE_BYTES
    this.bound = initialBytes
    if (initialBytes > this.maxJsonBytes) {
      throw new TypeError(
        `store.initialState is ${initialBytes} bytes of JSON, more than maxStateBytes allows (${this.maxJsonBytes} plus ${FRAME_ENVELOPE_BYTES} for the frame)`,
      )
    }
  }

  /**
   * Encodes the change from `current` to `state`, and checks that the state fits. A change larger
   * than the state it makes (a long array shifted) is sent as the whole state instead.
   * @throws IpcStateError from `failed`, when the state would pass the limit
   */
  fit(current: unknown, state: unknown, patches: Patch[], failed: (why: string) => IpcStateError): FittedChange {
    let patchesJson = encodeOrNull(patches)
    const patchBytes = patchesJson === null ? Number.POSITIVE_INFINITY : Buffer.byteLength(patchesJson)
    const growth = patchBytes + lengthGrowth(patches)
    if (this.bound + growth <= this.maxJsonBytes) return this.#grown(patches, patchesJson!, growth)
    // The bound reached the limit. First make it exact for the state as it is (it fits: it was
    // committed), which it then stays while changes are refused; often the change fits after all.
    if (!this.#exact) {
      this.bound = Buffer.byteLength(encodeOrNull(current) ?? '')
      this.#exact = true
      if (this.bound + growth <= this.maxJsonBytes) return this.#grown(patches, patchesJson!, growth)
    }
    const added = addedBytes(patches)
    if (this.bound + added > this.maxJsonBytes) throw this.#error(failed, 'would make the state at least', this.bound + added)
    // Still undecided: one encode of the new state decides, and makes the bound exact for it.
    const json = encodeOrNull(state)
    const stateBytes = json === null ? Number.POSITIVE_INFINITY : Buffer.byteLength(json)
    if (stateBytes > this.maxJsonBytes) throw this.#error(failed, 'would make the state', stateBytes)
    if (patchBytes > this.maxJsonBytes) {
      patches = [{ op: 'replace', path: [], value: state }]
      patchesJson = `[{"op":"replace","path":[],"value":${json}}]`
    }
    this.#exact = true
    return { patches, patchesJson: patchesJson!, stateBytes }
  }

  /**
   * Sets the bound to `bytes`, exact or only at least the state's size: for a state restored from
   * storage, or one gone back to after a failed write.
   */
  set(bytes: number, exact: boolean): void {
    this.bound = bytes
    this.#exact = exact
  }

  /**
   * Grows the bound by a change another server committed (and checked against its own limit):
   * the same estimate as for a change made here. Returns the new bound.
   */
  followed(patches: Patch[], patchesJson: string): number {
    this.bound += Buffer.byteLength(patchesJson) + lengthGrowth(patches)
    this.#exact = false
    return this.bound
  }

  #grown(patches: Patch[], patchesJson: string, growth: number): FittedChange {
    this.#exact = false
    return { patches, patchesJson, stateBytes: this.bound + growth }
  }

  /**
   * Checks an action's encoded result.
   * @throws IpcStateError from `failed`, when it passes the limit
   */
  checkResult(json: string, failed: (why: string) => IpcStateError): void {
    // A UTF-16 code unit takes at most three bytes of UTF-8: most results need no count.
    if (json.length * 3 <= this.maxJsonBytes) return
    const bytes = Buffer.byteLength(json)
    if (bytes > this.maxJsonBytes) throw this.#error(failed, 'returned a result of', bytes)
  }

  #error(failed: (why: string) => IpcStateError, what: string, bytes: number): IpcStateError {
    const size = Number.isFinite(bytes) ? `${bytes} bytes of JSON` : 'more JSON than can be encoded'
    const error = failed(
      `${what} ${size}, more than the ${this.maxJsonBytes} a client accepts (option maxStateBytes); nothing was changed`,
    )
    return new IpcStateError(error.code, error.message, {
      data: { limit: this.maxJsonBytes, ...(Number.isFinite(bytes) ? { bytes } : {}) },
    })
  }
}

/** `JSON.stringify(value)`, or null when it is too large for a string (or otherwise cannot be encoded). */
function encodeOrNull(value: unknown): string | null {
  try {
    return JSON.stringify(value)
  } catch {
    return null
  }
}

/**
 * The bytes the values of `patches` add at least, when every patch adds a value to one and the same
 * container (an array pushed to, new keys of one object): each value then appears in the state
 * whole, once. 0 when the patches do anything else.
 */
function addedBytes(patches: readonly Patch[]): number {
  const parent = JSON.stringify(patches[0]?.path.slice(0, -1))
  let bytes = 0
  for (const patch of patches) {
    if (patch.op !== 'add' || JSON.stringify(patch.path.slice(0, -1)) !== parent) return 0
    bytes += Buffer.byteLength(encodeOrNull(patch.value) ?? '')
  }
  return bytes
}

/** The bytes an array made longer through `length` may gain: five (`null,`) per new slot, at most. */
export function lengthGrowth(patches: readonly Patch[]): number {
  let bytes = 0
  for (const patch of patches) {
    if (patch.op === 'replace' && patch.path.at(-1) === 'length' && typeof patch.value === 'number') bytes += 5 * patch.value
  }
  return bytes
}
