// What a server started on a store (a data folder, a Redis key) served, or why it refused: shared
// by the storage properties, whatever the storage.
import { ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import type { Storage } from '@ipc-state/server'
import { expect } from 'vitest'
import { assertIpcStateError, assertPlainJson, assertPrototypesUntouched, within } from './checks.js'
import { connectTo, type FuzzCall, runCalls, startFuzzServer } from './fuzz-store.js'

/** How long a server may take to start on a store, or to close: past it, the property fails as a hang. */
export const SETTLE_MS = 20_000

/** The state (as JSON) and version a server served, or the error it refused to start with. */
export type Outcome = { state: string; version: number } | IpcStateError

/**
 * Starts a server on `storage` and closes it: what it served, or the error it refused with, which
 * must be `STORE_DAMAGED` (or `STORE_TOO_NEW` for a store that says a newer store version wrote it).
 * What it served must be plain JSON, at a version that is a count.
 */
export async function startOn(storage: Storage, socketRoot: string, what: string): Promise<Outcome> {
  let server: Awaited<ReturnType<typeof startFuzzServer>>
  try {
    server = await within(SETTLE_MS, `A server starting on the ${what}`, startFuzzServer(storage, socketRoot))
  } catch (error) {
    assertIpcStateError(error, [ErrorCode.STORE_DAMAGED, ErrorCode.STORE_TOO_NEW])
    assertPrototypesUntouched()
    return error
  }
  const served = { state: JSON.stringify(server.state), version: server.version }
  assertPlainJson(server.state, 1_000_000)
  expect(Number.isSafeInteger(server.version) && server.version >= 0).toBe(true)
  await within(SETTLE_MS, 'The server closing', server.close())
  assertPrototypesUntouched()
  return served
}

/** Makes `calls` through a real client of a server on `storage`: the state and version it served at the end. */
export async function writeThrough(storage: Storage, socketRoot: string, calls: readonly FuzzCall[]): Promise<Outcome> {
  await using server = await startFuzzServer(storage, socketRoot)
  const client = await connectTo(server, socketRoot)
  try {
    await runCalls(client, calls)
  } finally {
    await client.close()
  }
  return { state: JSON.stringify(server.state), version: server.version }
}

/** A store a server started on gives the same state and version to the next server (`startAgain`): what it served was what it kept. */
export async function expectStable(outcome: Outcome, startAgain: () => Promise<Outcome>): Promise<void> {
  if (outcome instanceof Error) return
  expect(await startAgain()).toEqual(outcome)
}
