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

/** The longest message `addMessage` accepts, in characters. */
export const MAX_MESSAGE_LENGTH = 500

/**
 * The seed's shared data, `{ counter, messages }`, with the two ways to change it. Server and
 * clients import this one definition; the client's types come from it.
 */
export const demoStore = defineStore({
  initialState: { counter: 0, messages: [] as Message[] },
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
  // Inputs cross a process boundary: the server checks them before an action runs.
  inputs: {
    increment: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    addMessage: z.string().trim().min(1).max(MAX_MESSAGE_LENGTH),
  },
})

export type DemoStore = typeof demoStore
