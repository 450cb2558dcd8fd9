import { describe, it, expect } from 'vitest'
import * as api from './index.js'
import * as errors from './errors.js'
import * as messages from './messages.js'
import * as frame from './wire/frame.js'
import * as validate from './wire/validate.js'
import * as defineStore from './define-store.js'
import * as socketPath from './socket-path.js'
import * as applyPatches from './apply-patches.js'
import * as encode from './wire/encode.js'
import * as defaults from './defaults.js'
import * as logger from './logger.js'
import * as binaryFrame from './wire/binary-frame.js'
import * as jsonPack from './wire/json-pack.js'
import * as frameCost from './wire/frame-cost.js'

describe('public entry point', () => {
  it('exports exactly the documented runtime values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'DEFAULT_APPSPACE',
        'Defaults',
        'encodeActionResult',
        'encodeClientMessage',
        'encodeServerMessage',
        'encodeStateChanged',
        'numberOption',
        'DEFAULT_MAX_DEPTH',
        'DEFAULT_MAX_FRAME_BYTES',
        'DEFAULT_SOCKET_ROOT',
        'ClientMessageType',
        'ErrorCode',
        'FRAME_DELIMITER',
        'FrameDecoder',
        'IpcStateError',
        'MAX_NAME_LENGTH',
        'PROTOCOL_VERSION',
        'RETRYABLE_ERROR_CODES',
        'SERVER_INFO_MAX_ACTIONS',
        'SERVER_INFO_MAX_CONNECTIONS',
        'SERVER_INFO_MAX_SCHEMA_BYTES',
        'SERVER_INFO_MAX_SCHEMAS_BYTES',
        'ServerMessageType',
        'applyPatches',
        'commitPatches',
        'decodeClientMessage',
        'decodeServerMessage',
        'deepFreeze',
        'defineStore',
        'defaultSocketRoot',
        'encodeFrame',
        'errorFromWire',
        'isErrorCode',
        'isIpcStateError',
        'isPatch',
        'isRequestId',
        'isRetryable',
        'isWithinDepth',
        'maxUnixSocketPathBytes',
        'resolveSocketPath',
        'socketRootWarning',
        'toIpcStateError',
        'utf8ByteLength',
        'consoleLogger',
        'pinoLogger',
        'BINARY_FRAME_MARKER',
        'BINARY_HEADER_BYTES',
        'BINARY_MIN_BYTES',
        'WireDecoder',
        'writeBinaryHeader',
        'decodeBinaryBody',
        'encodeBinaryFrame',
        'jsonSize',
        'packEnvelope',
        'packValue',
        'FRAME_BYTES_PER_CONTAINER',
        'maxFrameContainers',
      ].sort(),
    )
  })

  it('re-exports the modules’ own bindings, not copies', () => {
    const modules: Record<string, unknown>[] = [
      errors,
      messages,
      frame,
      validate,
      defineStore,
      socketPath,
      applyPatches,
      encode,
      defaults,
      logger,
      binaryFrame,
      jsonPack,
      frameCost,
    ]
    for (const [name, value] of Object.entries(api)) {
      const owner = modules.find((m) => Object.hasOwn(m, name))
      expect(owner, name).toBeDefined()
      expect(value, name).toBe(owner![name])
    }
  })
})
