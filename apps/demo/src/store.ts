import { defineStore } from '@ipc-state/protocol'
import { z } from 'zod'

/** One entry of the shared message list. */
export interface Message {
  /** 1 for the first message, then counting up. */
  id: number
  text: string
  /** The client id of the process that added it. */
  from: string
  /** When the server added it, in milliseconds since the epoch. */
  at: number
}

/** A client process connected to the server, as the store's presence hooks keep it. */
export interface ConnectedClient {
  /** The id it connected with (`watcher-1a2b3c4d`). */
  clientId: string
  /** Its client instance: new for each `connect`, so two processes never share one. */
  instanceId: string
}

/** The longest message `addMessage` accepts, in characters. */
export const MAX_MESSAGE_LENGTH = 500

/**
 * The seed's shared data, `{ counter, messages }`, with the two ways to change it, and the list of
 * the clients connected, which the server keeps as they join and leave. Server and clients import
 * this one definition; the client's types come from it.
 */
export const demoStore = defineStore({
  // An array, not an object keyed by a client-given id: an id such as `__proto__` stays a plain value.
  initialState: { counter: 0, messages: [] as Message[], clients: [] as ConnectedClient[] },
  actions: {
    /** Adds `by` to the counter and returns the new value. */
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    /** Appends a message from the calling client and returns its id. */
    addMessage(state, text: string, context) {
      const message: Message = { id: state.messages.length + 1, text, from: context.clientId, at: context.now }
      state.messages.push(message)
      return message.id
    },
  },
  // Runs at a client process's first hello: the list needs no call of its own.
  onClientJoin(state, { clientId, instanceId }) {
    state.clients.push({ clientId, instanceId })
  },
  // Runs once per client process when it is gone for good: at once when it closes, or once its
  // connection has been lost for the server's leaveGrace (a process killed, say).
  onClientLeave(state, { instanceId }) {
    state.clients = state.clients.filter((client) => client.instanceId !== instanceId)
  },
  // Version 2 added the list of clients: a data folder written by the first version starts with none.
  version: 2,
  migrate: (state) => ({ ...(state as { counter: number; messages: Message[] }), clients: [] }),
  // Inputs cross a process boundary: the server checks them before an action runs.
  inputs: {
    increment: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    addMessage: z.string().trim().min(1).max(MAX_MESSAGE_LENGTH),
  },
})

export type DemoStore = typeof demoStore
