import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { action, actionSchema } from './action.js'
import { type ActionContext, type ActionsOf, type CallArgs, type CallResult, defineStore } from './define-store.js'

interface Message {
  text: string
  from: string
  pinned: boolean
}

const message = z.object({ text: z.string().min(1).max(500), pinned: z.boolean().default(false) })

const chat = defineStore({
  initialState: { messages: [] as Message[], limit: 10 },
  actions: {
    send: action(message, (state, input, context) => {
      state.messages.push({ text: input.text, from: context.clientId, pinned: input.pinned })
      return state.messages.length
    }),
    setLimit: action(z.number().int().positive(), (state, limit) => {
      state.limit = limit
    }),
    clear(state) {
      state.messages = []
    },
  },
})

type Actions = ActionsOf<typeof chat>

const context: ActionContext = { clientId: 'c1', instanceId: 'c1-a', version: 0, now: 0 }

describe('action at run time', () => {
  it('hands its schema to defineStore, which gives it to the server as an input schema', () => {
    expect(chat.inputs.send).toBe(message)
    expect(Object.keys(chat.inputs).sort()).toEqual(['send', 'setLimit'])
    expect(chat.inputs.clear).toBeUndefined()
  })

  it('keeps the schemas given in inputs beside those of its actions', () => {
    const count = z.number().int()
    const store = defineStore({
      initialState: { n: 0 },
      actions: {
        add(state, by: number) {
          state.n += by
        },
        set: action(z.number(), (state, n) => {
          state.n = n
        }),
      },
      inputs: { add: count },
    })
    expect(store.inputs.add).toBe(count)
    expect(actionSchema(store.actions.set)).toBe(store.inputs.set)
  })

  it('runs as a plain function on a draft, with the input as given', () => {
    const draft = { messages: [] as Message[], limit: 10 }
    expect(chat.actions.send(draft, { text: 'hi', pinned: true }, context)).toBe(1)
    chat.actions.setLimit(draft, 3, context)
    expect(draft).toEqual({ messages: [{ text: 'hi', from: 'c1', pinned: true }], limit: 3 })
  })

  it('lets one function serve under two schemas', () => {
    const run = (state: { n: number }, n: number) => {
      state.n = n
    }
    const small = action(z.number().max(9), run)
    const any = action(z.number(), run)
    expect(actionSchema(small)).not.toBe(actionSchema(any))
    expect(actionSchema(run)).toBeUndefined()
  })

  it('throws TypeError for a schema that is not a Standard Schema, or a run that is no function', () => {
    expect(() => action({ parse: () => 1 } as never, () => {})).toThrow(/action: schema must be a Standard Schema/)
    expect(() => action(null as never, () => {})).toThrow(TypeError)
    expect(() => action(z.number(), 'run' as never)).toThrow(/action: run must be a function/)
  })

  it('accepts a callable Standard Schema (as ArkType produces)', () => {
    const callable = Object.assign((value: unknown) => value, {
      '~standard': {
        version: 1 as const,
        vendor: 'callable',
        validate: (value: unknown) => (typeof value === 'number' ? { value } : { issues: [{ message: 'not a number' }] }),
      },
    }) as StandardSchemaV1<number, number> & ((value: unknown) => unknown)
    const store = defineStore({
      initialState: { n: 0 },
      actions: {
        set: action(callable, (state, n) => {
          state.n = n
        }),
      },
    })
    expect(store.inputs.set).toBe(callable)
  })

  it('refuses a second schema for the same action in inputs', () => {
    const options = {
      initialState: { n: 0 },
      actions: {
        set: action(z.number(), (state: { n: number }, n) => {
          state.n = n
        }),
      },
      inputs: { set: z.number() },
    }
    expect(() => defineStore(options as never)).toThrow(/action "set" has a schema of its own, and inputs\.set another/)
  })

  it('finds the schema only on functions it made', () => {
    for (const value of [undefined, null, 1, {}, () => {}]) expect(actionSchema(value)).toBeUndefined()
    // A forged key of another value is not a schema.
    const forged = Object.defineProperty(() => {}, Symbol.for('ipc-state.action-input'), { value: 'schema' })
    expect(actionSchema(forged)).toBeUndefined()
  })
})

describe('action types', () => {
  it("types run's state from initialState and its input from the schema's output", () => {
    defineStore({
      initialState: { count: 0 },
      actions: {
        check: action(z.object({ by: z.number().default(1), note: z.string().optional() }), (state, input, ctx) => {
          expectTypeOf(state).toEqualTypeOf<{ count: number }>()
          // The default filled in: a number, not `number | undefined`.
          expectTypeOf(input).toEqualTypeOf<{ by: number; note?: string | undefined }>()
          expectTypeOf(ctx).toEqualTypeOf<ActionContext>()
          // @ts-expect-error no such field on the state
          state.missing = 1
          state.count += input.by
        }),
      },
    })
  })

  it("has clients pass the schema's input type", () => {
    expectTypeOf<CallArgs<Actions['send']>>().toEqualTypeOf<[input: { text: string; pinned?: boolean | undefined }]>()
    expectTypeOf<CallArgs<Actions['setLimit']>>().toEqualTypeOf<[input: number]>()
    expectTypeOf<[{ text: number }]>().not.toExtend<CallArgs<Actions['send']>>()
    expectTypeOf<[]>().not.toExtend<CallArgs<Actions['send']>>()
  })

  it('makes the input optional when the schema accepts undefined', () => {
    const store = defineStore({
      initialState: { n: 0 },
      actions: {
        bump: action(z.number().optional(), (state, by) => {
          state.n += by ?? 1
        }),
      },
    })
    expectTypeOf<CallArgs<ActionsOf<typeof store>['bump']>>().toEqualTypeOf<[input?: number | undefined]>()
  })

  it("gives clients run's result", () => {
    expectTypeOf<CallResult<Actions['send']>>().toEqualTypeOf<number>()
    expectTypeOf<CallResult<Actions['setLimit']>>().toEqualTypeOf<void>()
  })

  it('refuses a run that reads the input as another type than the schema gives', () => {
    defineStore({
      initialState: { n: 0 },
      actions: {
        // @ts-expect-error the schema gives a string, not a number
        set: action(z.string(), (state, n: number) => {
          state.n = n
        }),
      },
    })
  })
})
