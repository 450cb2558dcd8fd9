// Counts the objects and arrays of a MessagePack body before it is read, allocating nothing.

/** The first id of msgpackr's one-byte records, and how many there are. */
export const RECORD_FIRST = 0x40
export const RECORD_IDS = 0x40
/** msgpackr's extension type for a record's definition ("r"). */
export const RECORD_DEFINITION = 0x72

/**
 * Counts the containers of `src` by walking its tokens in order, as far as `limit` and no
 * further, allocating nothing; a token it does not know ends the count (the reader refuses it).
 * MessagePack puts a container's items right after its header, so no nesting needs tracking.
 */
export function countContainers(src: Uint8Array, view: DataView, limit: number): number {
  const end = src.length
  const defined: boolean[] = []
  let count = 0
  let at = 0
  while (at < end && count <= limit) {
    const token = src[at++]!
    if (token < 0x40 || token >= 0xe0 || token === 0xc0 || token === 0xc2 || token === 0xc3) continue
    if (token < 0x80) {
      // A record: one object, its values follow.
      if (defined[token - RECORD_FIRST] !== true) break
      count++
    } else if (token < 0xa0) count++
    else if (token < 0xc0) at += token - 0xa0
    else if (token === 0xdc || token === 0xde) {
      count++
      at += 2
    } else if (token === 0xdd || token === 0xdf) {
      count++
      at += 4
    } else if (token === 0xd9) at += 1 + (src[at] ?? 0)
    else if (token === 0xda) at += 2 + (at + 2 <= end ? view.getUint16(at) : 0)
    else if (token === 0xdb) at += 4 + (at + 4 <= end ? view.getUint32(at) : 0)
    else if (token === 0xcc || token === 0xd0) at += 1
    else if (token === 0xcd || token === 0xd1) at += 2
    else if (token === 0xce || token === 0xd2) at += 4
    else if (token === 0xcb) at += 8
    else if (token === 0xd4 && src[at] === RECORD_DEFINITION) {
      // Its first object; its keys' array and their strings come next as tokens of their own.
      const id = (src[at + 1] ?? 0) - RECORD_FIRST
      if (id < 0 || id >= RECORD_IDS) break
      defined[id] = true
      at += 2
      count++
    } else break
  }
  return count
}
