// Relayed calls and the writer's replies as stream entries: written flat, read back checked field by field.
import type { RelayedCall, RelayedReply } from '@ipc-state/server'

/** The fields of one relayed call in an entry of `<key>:calls`, after the entry's `f` (the server it came from). */
const CALL_FIELDS = 8
/** The fields of one reply in an entry of `<key>:replies:<server>`. */
const REPLY_FIELDS = 6
/** The longest id a client instance or a client may have (the protocol's name bound), with room to spare. */
const MAX_NAME = 1_024

/** The fields of an entry of the calls stream for `calls`, all relayed by one server. */
export function encodeCalls(from: string, calls: readonly RelayedCall[]): string[] {
  const fields = ['f', from]
  for (const call of calls) fields.push('i', call.instanceId, 's', String(call.since), 'c', call.clientId, 'm', call.frame)
  return fields
}

/** The fields of an entry of a server's replies stream for `replies`. */
export function encodeReplies(replies: readonly RelayedReply[]): string[] {
  const fields: string[] = []
  for (const reply of replies) fields.push('i', reply.instanceId, 'n', String(reply.id), 'r', reply.responseJson)
  return fields
}

const isName = (text: string | undefined): text is string => text !== undefined && text.length > 0 && text.length <= MAX_NAME
const wholeNumber = (text: string | undefined): number =>
  text !== undefined && /^(0|[1-9][0-9]{0,14})$/.test(text) ? Number(text) : Number.NaN

/**
 * The calls in an entry of the calls stream, or why the entry is not what a server writes: it is
 * then left out whole (a store someone else wrote to). Each frame is at most `maxBytes` long.
 */
export function readCalls(fields: readonly string[], maxBytes: number): RelayedCall[] | string {
  if (fields.length < 2 + CALL_FIELDS || (fields.length - 2) % CALL_FIELDS !== 0) return `${fields.length} fields`
  const [f, from] = fields
  if (f !== 'f' || !isName(from)) return 'no server it came from'
  const calls: RelayedCall[] = []
  for (let at = 2; at < fields.length; at += CALL_FIELDS) {
    const [i, instanceId, s, sinceText, c, clientId, m, frame] = fields.slice(at, at + CALL_FIELDS)
    if (i !== 'i' || s !== 's' || c !== 'c' || m !== 'm') return `unknown fields at ${at}`
    const since = wholeNumber(sinceText)
    if (!isName(instanceId) || !isName(clientId) || Number.isNaN(since)) return `a call without its client at ${at}`
    if (frame === undefined || frame.length === 0 || Buffer.byteLength(frame) > maxBytes)
      return `a call of no or too many bytes at ${at}`
    calls.push({ from, instanceId, since, clientId, frame })
  }
  return calls
}

/** The replies in an entry of a replies stream, or why it is not what a writer writes (left out whole). */
export function readReplies(fields: readonly string[], maxBytes: number): RelayedReply[] | string {
  if (fields.length === 0 || fields.length % REPLY_FIELDS !== 0) return `${fields.length} fields`
  const replies: RelayedReply[] = []
  for (let at = 0; at < fields.length; at += REPLY_FIELDS) {
    const [i, instanceId, n, idText, r, responseJson] = fields.slice(at, at + REPLY_FIELDS)
    if (i !== 'i' || n !== 'n' || r !== 'r') return `unknown fields at ${at}`
    const id = wholeNumber(idText)
    if (!isName(instanceId) || Number.isNaN(id)) return `a reply without its call at ${at}`
    if (responseJson === undefined || responseJson.length === 0 || Buffer.byteLength(responseJson) > maxBytes)
      return `a reply of no or too many bytes at ${at}`
    replies.push({ instanceId, id, responseJson })
  }
  return replies
}
