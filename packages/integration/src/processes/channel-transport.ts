// A transport over the IPC channel between a parent and its child processes, written as a user would: from the exported types alone.
import type { ChildProcess } from 'node:child_process'
import type { ClientConnection, ClientTransport } from '@ipc-state/client'
import type { ConnectionEvents, Transport, TransportConnection, TransportHandlers } from '@ipc-state/server'

/**
 * What goes over the channel (`serialization: 'advanced'` carries a Uint8Array as it is). A child
 * numbers its connections: it opens a new one after each it lost.
 */
type ChannelMessage =
  | { kind: 'open' | 'accept' | 'close'; connection: number }
  | { kind: 'data'; connection: number; bytes: Uint8Array }

const isChannelMessage = (message: unknown): message is ChannelMessage =>
  typeof message === 'object' && message !== null && typeof (message as ChannelMessage).connection === 'number'

/** Bytes a connection may hold on their way to the child before `write` says stop. */
const HIGH_WATER_BYTES = 64 * 1024

/** The server's side: every attached child process is a peer, and may open connections. */
export interface ChannelServerTransport extends Transport {
  /** Serves a child process started with an IPC channel and `serialization: 'advanced'`. */
  attach(child: ChildProcess): void
}

/** For a send whose failure means the child is gone, which its `disconnect` reports. */
const ignoreError = (): void => undefined

export function channelServerTransport(): ChannelServerTransport {
  let handlers: TransportHandlers | undefined
  const open = new Set<() => void>()
  let allClosed: (() => void) | undefined

  function accept(child: ChildProcess, id: number, accepted: TransportHandlers): (message: ChannelMessage) => void {
    let bufferedBytes = 0
    let owesDrain = false
    let closed = false
    let events: ConnectionEvents | undefined
    const close = () => {
      if (closed) return
      closed = true
      open.delete(closeFromServer)
      // A child that died meanwhile fails the send (EPIPE): nothing is left to tell it.
      if (child.connected) child.send({ kind: 'close', connection: id }, ignoreError)
      // Reported from a task of our own, never from inside end() or destroy().
      setImmediate(() => {
        events?.close()
        if (open.size === 0) allClosed?.()
      })
    }
    const closeFromServer = () => close()
    open.add(closeFromServer)
    const connection: TransportConnection = {
      write(bytes, written) {
        if (closed || !child.connected) {
          if (written !== undefined) setImmediate(written)
          return false
        }
        bufferedBytes += bytes.length
        child.send({ kind: 'data', connection: id, bytes }, () => {
          bufferedBytes -= bytes.length
          written?.()
          if (owesDrain && bufferedBytes < HIGH_WATER_BYTES && !closed) {
            owesDrain = false
            events?.drain()
          }
        })
        if (bufferedBytes < HIGH_WATER_BYTES) return true
        owesDrain = true
        return false
      },
      get bufferedBytes() {
        return bufferedBytes
      },
      // child.send keeps the order of messages: the close follows everything written.
      end: close,
      destroy: close,
    }
    events = accepted.connection(connection)
    child.send({ kind: 'accept', connection: id }, ignoreError)
    return (message) => {
      if (closed) return
      if (message.kind === 'data') events?.data(message.bytes)
      else if (message.kind === 'close') close()
    }
  }

  return {
    name: 'parent channel',
    async listen(given) {
      handlers = given
      return {
        close() {
          handlers = undefined
          return new Promise((resolve) => {
            if (open.size === 0) resolve()
            else allClosed = resolve
            for (const close of [...open]) close()
          })
        },
      }
    },
    attach(child) {
      const connections = new Map<number, (message: ChannelMessage) => void>()
      child.on('message', (message: unknown) => {
        if (!isChannelMessage(message)) return
        if (message.kind === 'open') {
          if (handlers === undefined) child.send({ kind: 'close', connection: message.connection }, ignoreError)
          else connections.set(message.connection, accept(child, message.connection, handlers))
          return
        }
        connections.get(message.connection)?.(message)
      })
      child.once('disconnect', () => {
        for (const receive of connections.values()) receive({ kind: 'close', connection: -1 })
      })
    },
  }
}

/** The client's side, in a child process whose parent serves it through {@link channelServerTransport}. */
export function channelClientTransport(): ClientTransport {
  let next = 1
  return {
    name: 'parent channel',
    open(handlers): ClientConnection {
      const id = next++
      let state: 'opening' | 'open' | 'closed' = 'opening'
      const end = (error?: Error) => {
        if (state === 'closed') return
        state = 'closed'
        process.off('message', receive)
        handlers.close(error)
      }
      const receive = (message: unknown) => {
        if (!isChannelMessage(message) || message.connection !== id) return
        if (message.kind === 'accept' && state === 'opening') {
          state = 'open'
          handlers.open()
        } else if (message.kind === 'data' && state === 'open') handlers.data(message.bytes)
        else if (message.kind === 'close') end(state === 'opening' ? new Error('the parent refused the connection') : undefined)
      }
      process.on('message', receive)
      if (process.send === undefined) setImmediate(() => end(new Error('this process has no IPC channel')))
      else process.send({ kind: 'open', connection: id })
      return {
        write(bytes) {
          if (state === 'open') process.send?.({ kind: 'data', connection: id, bytes })
        },
        close() {
          if (state === 'closed') return
          process.send?.({ kind: 'close', connection: id })
          end()
        },
      }
    },
  }
}
