/**
 * The readers and writers of the relay's stream entries, for the fuzzing of what they take from a
 * store another program may write to. Not part of the storage's API.
 * @module @ipc-state/redis/testing
 */
export { encodeCalls, encodeReplies, readCalls, readReplies } from './relay/relay-entries.js'
