import { defineStore } from '@ipc-state/protocol'
import { z } from 'zod'

export interface Message {
  id: number
  text: string
  from: string
  at: number
}

/** The test store's state, as a fixture prints it. */
export interface TestState {
  counter: number
  messages: Message[]
}

/** The store every cross-process test serves: the seed's shape plus actions that misbehave. */
export const testStore = defineStore({
  initialState: { counter: 0, messages: [] } as TestState,
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    addMessage(state, text: string, context) {
      const message = { id: state.messages.length + 1, text, from: context.clientId, at: context.version + 1 }
      state.messages.push(message)
      return message.id
    },
    /** Changes the state, then throws: the change must not survive. */
    explode(state, reason: string) {
      state.counter += 1_000_000
      throw new Error(reason)
    },
    /** Reads without changing anything. */
    peek(state) {
      return state.counter
    },
    /** Says who called and when, as the action sees it, without changing anything. */
    caller(_state, _input: undefined, context) {
      return { clientId: context.clientId, instanceId: context.instanceId, now: context.now }
    },
  },
  inputs: {
    increment: z.number().int().optional(),
    addMessage: z.string().min(1).max(1000),
  },
})

export type TestStore = typeof testStore
