// The client's half of the handshake: the hello it sends, and what the server's answer to it means.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import {
  ClientMessageType,
  PROTOCOL_VERSION,
  errorFromWire,
  type HelloResult,
  type ResponseMessage,
} from '@ipc-state/protocol/wire'
import { textBytes } from '../calls/call-frames.js'
import type { ClientOptions } from '../client-options.js'
import { helloResultProblem } from './server-results.js'

/** The hello, request `id`, as bytes: who the client is, and what it wants from the server. */
export function helloFrame(options: ClientOptions, id: number): Uint8Array {
  const { clientId, instanceId, replica, binaryFrames } = options
  return textBytes({
    type: ClientMessageType.Hello,
    // Batched frames are always offered: every server that knows them sends them, and one that
    // does not leaves them out of its answer and sends what it always did.
    data: { id, protocol: PROTOCOL_VERSION, clientId, instanceId, replica, ...(binaryFrames ? { binary: true } : {}), batch: true },
  })
}

/** The goodbye of a client instance that closes for good: its server leaves it at once (`onClientLeave`). */
export const BYE_FRAME: Uint8Array = textBytes({ type: ClientMessageType.Bye, data: {} })

/** What the server's answer to the hello means: connected, or an error that may be worth another attempt. */
export type HelloAnswer = { ok: true; hello: HelloResult } | { ok: false; error: IpcStateError; fatal: boolean }

/**
 * Reads the answer to the hello. A protocol mismatch, or a result that is not a hello's (not a
 * server of this protocol, or a broken one), is fatal: trying again would only meet it again.
 */
export function readHelloAnswer(response: ResponseMessage, options: ClientOptions): HelloAnswer {
  if (response.error !== undefined) {
    const error = errorFromWire(response.error)
    return { ok: false, error, fatal: error.code === ErrorCode.PROTOCOL_MISMATCH }
  }
  const problem = helloResultProblem(response.result, options.replica)
  if (problem === undefined) return { ok: true, hello: response.result as HelloResult }
  options.logger.error?.('the server answered the handshake with a malformed result', { reason: problem })
  const error = new IpcStateError(
    ErrorCode.BAD_REQUEST,
    `The server at ${options.path} answered the handshake with ${problem}: it does not speak this client's protocol`,
  )
  return { ok: false, error, fatal: true }
}
