import { describe, it, expect, expectTypeOf } from 'vitest'
import { z } from 'zod'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  defineStore,
  type ActionContext,
  type ActionInput,
  type ActionMap,
  type ActionsOf,
  type CallArgs,
  type CallResult,
  type DeepReadonly,
  type DefineStoreOptions,
  type StateOf,
  type StoreDefinition,
} from './define-store.js'

interface Todo {
  text: string
  done: boolean
}

interface AppState {
  counter: number
  todos: Todo[]
}

/** The seed's counter store, plus actions covering each kind of signature. */
const store = defineStore({
  initialState: { counter: 0, todos: [] as Todo[] },
  actions: {
    reset(state) {
      state.counter = 0
    },
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    addTodo(state, text: string) {
      state.todos.push({ text, done: false })
      return state.todos.length
    },
    rename(state, text: string, context: ActionContext) {
      const todo = state.todos[0]
      if (todo !== undefined) todo.text = `${text} by ${context.clientId}@${context.version}`
      return todo?.text ?? null
    },
    toggle(state, input: { index: number; done?: boolean }) {
      const todo = state.todos[input.index]
      if (todo === undefined) throw new RangeError('no such todo')
      todo.done = input.done ?? !todo.done
      return { done: todo.done }
    },
  },
})

type Store = typeof store
type Actions = ActionsOf<Store>

/** Calls defineStore with options the types would refuse, to test the runtime checks. */
const defineLoosely = (options: unknown): unknown => defineStore(options as DefineStoreOptions<object, ActionMap<object>>)

describe('defineStore at runtime', () => {
  it('returns the initial state, the actions and an empty inputs object by default', () => {
    expect(store.initialState).toEqual({ counter: 0, todos: [] })
    expect(Object.keys(store.actions)).toEqual(['reset', 'increment', 'addTodo', 'rename', 'toggle'])
    expect(store.inputs).toEqual({})
  })

  it('gives the store version 1 unless told, and keeps a migrate function', () => {
    expect(defineStore({ initialState: {}, actions: {} }).version).toBe(1)
    const migrate = (state: unknown) => state as { n: number }
    const store = defineStore({ initialState: { n: 0 }, actions: {}, version: 3, migrate })
    expect(store.version).toBe(3)
    expect(store.migrate).toBe(migrate)
  })

  it('throws TypeError for a version that is not a whole number of at least 1, or a migrate that is no function', () => {
    for (const version of [0, -1, 1.5, Number.NaN]) {
      expect(() => defineStore({ initialState: {}, actions: {}, version })).toThrow(/version must be a whole number/)
    }
    expect(() => defineStore({ initialState: {}, actions: {}, migrate: 'x' as never })).toThrow(/migrate must be a function/)
  })

  it('returns a frozen definition', () => {
    expect(Object.isFrozen(store)).toBe(true)
    expect(() => {
      ;(store as { initialState: unknown }).initialState = {}
    }).toThrow(TypeError)
    expect(() => {
      ;(store as { actions: unknown }).actions = {}
    }).toThrow(TypeError)
  })

  it('keeps the actions callable as plain functions on a draft', () => {
    const draft: AppState = { counter: 5, todos: [] }
    expect(store.actions.increment(draft, 2)).toBe(7)
    expect(store.actions.increment(draft)).toBe(8)
    expect(store.actions.addTodo(draft, 'write tests')).toBe(1)
    expect(store.actions.rename(draft, 'ship', { clientId: 'c7', instanceId: 'c7-a', version: 3, now: 0 })).toBe('ship by c7@3')
    expect(store.actions.toggle(draft, { index: 0 })).toEqual({ done: true })
    store.actions.reset(draft)
    expect(draft).toEqual({ counter: 0, todos: [{ text: 'ship by c7@3', done: true }] })
  })

  it('accepts an empty action map', () => {
    expect(defineStore({ initialState: {}, actions: {} }).actions).toEqual({})
  })

  it('keeps the given input schemas', () => {
    const schema = z.number().int()
    const withInputs = defineStore({
      initialState: { counter: 0 },
      actions: {
        increment(state, by: number) {
          state.counter += by
        },
      },
      inputs: { increment: schema },
    })
    expect(withInputs.inputs.increment).toBe(schema)
  })

  it.each([
    ['an array', []],
    ['null', null],
    ['undefined', undefined],
    ['a number', 0],
    ['a string', 'state'],
    ['a function', () => ({})],
  ])('throws TypeError when initialState is %s', (_label, initialState) => {
    expect(() => defineLoosely({ initialState, actions: {} })).toThrow(TypeError)
    expect(() => defineLoosely({ initialState, actions: {} })).toThrow(/initialState must be a plain object/)
  })

  it('refuses a non-object initialState at compile time too', () => {
    // @ts-expect-error a number is not an object state
    expect(() => defineStore({ initialState: 5, actions: {} })).toThrow(TypeError)
  })

  it.each([
    ['a number', 1],
    ['a string', 'increment'],
    ['null', null],
    ['an object', { run() {} }],
  ])('throws TypeError naming the action when an action is %s', (_label, action) => {
    const options = { initialState: {}, actions: { good() {}, bad: action } }
    expect(() => defineLoosely(options)).toThrow(TypeError)
    expect(() => defineLoosely(options)).toThrow(/action "bad" must be a function/)
  })

  it('refuses a non-function action at compile time too', () => {
    // @ts-expect-error an action must be a function
    expect(() => defineStore({ initialState: {}, actions: { bad: 5 } })).toThrow(TypeError)
  })

  it('throws TypeError when inputs names no action', () => {
    const options = { initialState: {}, actions: { go() {} }, inputs: { gone: z.number() } }
    expect(() => defineLoosely(options)).toThrow(TypeError)
    expect(() => defineLoosely(options)).toThrow(/inputs\.gone names no action/)
  })

  it('throws TypeError when inputs names an inherited key rather than an action', () => {
    const options = { initialState: {}, actions: { go() {} }, inputs: { toString: z.number() } }
    expect(() => defineLoosely(options)).toThrow(/inputs\.toString names no action/)
  })

  it.each([
    ['null', null],
    ['a string', 'number'],
    ['a plain object', { parse: () => 1 }],
    ['a validate-only object', { validate: () => ({ value: 1 }) }],
  ])('throws TypeError when an input schema is %s', (_label, schema) => {
    const options = { initialState: {}, actions: { go() {} }, inputs: { go: schema } }
    expect(() => defineLoosely(options)).toThrow(TypeError)
    expect(() => defineLoosely(options)).toThrow(/inputs\.go must be a Standard Schema/)
  })

  it('accepts a hand-written Standard Schema object', () => {
    const schema: StandardSchemaV1<unknown, number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => (typeof value === 'number' ? { value } : { issues: [{ message: 'not a number' }] }),
      },
    }
    const def = defineStore({
      initialState: { n: 0 },
      actions: {
        set(state, n: number) {
          state.n = n
        },
      },
      inputs: { set: schema },
    })
    expect(def.inputs.set).toBe(schema)
  })

  // BUG (define-store.ts, defineStore, the check
  //   `typeof schema !== 'object' || schema === null || !('~standard' in schema)`):
  // Standard Schema may be implemented by functions, and ArkType's schemas are callable functions
  // carrying '~standard' (the error message itself names arktype). They are refused with
  // "defineStore: inputs.go must be a Standard Schema (zod, valibot, arktype…)".
  // Repro: defineStore({ initialState: {}, actions: { go(s, n: number) {} },
  //   inputs: { go: Object.assign((v: unknown) => v, { '~standard': { version: 1, vendor: 'x', validate: ... } }) } })
  //   -> TypeError; expected: accepted.
  it('accepts a callable Standard Schema (as ArkType produces)', () => {
    const callable = Object.assign((value: unknown) => value, {
      '~standard': {
        version: 1 as const,
        vendor: 'callable',
        validate: (value: unknown) => (typeof value === 'number' ? { value } : { issues: [{ message: 'not a number' }] }),
      },
    })
    const def = defineStore({
      initialState: { n: 0 },
      actions: {
        go(state, n: number) {
          state.n = n
        },
      },
      inputs: { go: callable },
    })
    expect(def.inputs.go).toBe(callable)
  })

  it('validates input with a zod schema through the Standard Schema interface', async () => {
    const def = defineStore({
      initialState: { counter: 0 },
      actions: {
        increment(state, by: number = 1) {
          state.counter += by
        },
      },
      inputs: { increment: z.number().int().positive() },
    })
    const schema = def.inputs.increment!
    const good = await schema['~standard'].validate(3)
    expect(good.issues).toBeUndefined()
    expect((good as StandardSchemaV1.SuccessResult<unknown>).value).toBe(3)
    const bad = await schema['~standard'].validate('3')
    expect(bad.issues?.length).toBeGreaterThan(0)
  })
})

describe('defineStore types', () => {
  it('infers the state type', () => {
    expectTypeOf<StateOf<Store>>().toEqualTypeOf<{ counter: number; todos: Todo[] }>()
    expectTypeOf(store.initialState).toEqualTypeOf<{ counter: number; todos: Todo[] }>()
    expectTypeOf<StateOf<{ not: 'a store' }>>().toBeNever()
  })

  it('infers the action map', () => {
    expectTypeOf<Actions>().toEqualTypeOf<Store['actions']>()
    expectTypeOf<keyof Actions>().toEqualTypeOf<'reset' | 'increment' | 'addTodo' | 'rename' | 'toggle'>()
    expectTypeOf<ActionsOf<number>>().toBeNever()
    expectTypeOf(store).toExtend<StoreDefinition<AppState, Actions>>()
  })

  it('types the state parameter of an unannotated action from initialState', () => {
    defineStore({
      initialState: { count: 0, tags: ['a'] },
      actions: {
        check(state) {
          expectTypeOf(state).toEqualTypeOf<{ count: number; tags: string[] }>()
          // @ts-expect-error no such field on the state
          state.missing = 1
        },
        withInput(state, input: number, context) {
          expectTypeOf(state).toEqualTypeOf<{ count: number; tags: string[] }>()
          expectTypeOf(context).toEqualTypeOf<ActionContext>()
          state.count += input
        },
      },
    })
  })

  it('derives CallArgs: no input', () => {
    expectTypeOf<CallArgs<Actions['reset']>>().toEqualTypeOf<[]>()
    expectTypeOf<CallArgs<(state: AppState) => void>>().toEqualTypeOf<[]>()
  })

  it('derives CallArgs: an optional input from a default value', () => {
    expectTypeOf<CallArgs<Actions['increment']>>().toEqualTypeOf<[input?: number]>()
    // Zero or one argument both fit; a string does not.
    expectTypeOf<[]>().toExtend<CallArgs<Actions['increment']>>()
    expectTypeOf<[number]>().toExtend<CallArgs<Actions['increment']>>()
    expectTypeOf<[string]>().not.toExtend<CallArgs<Actions['increment']>>()
  })

  it('derives CallArgs: an optional input from an unannotated default value', () => {
    function increment(state: AppState, by = 1) {
      state.counter += by
      return state.counter
    }
    expectTypeOf<CallArgs<typeof increment>>().toEqualTypeOf<[input?: number]>()
    expectTypeOf<ActionInput<typeof increment>>().toEqualTypeOf<number | undefined>()

    // Written inline in defineStore, `by = 1` takes its type from the contextual ActionFunction
    // (`input: any`), not from the default: the input is optional, but typed any.
    const inline = defineStore({
      initialState: { counter: 0 },
      actions: {
        increment(state, by = 1) {
          state.counter += by
        },
      },
    })
    type Inline = CallArgs<ActionsOf<typeof inline>['increment']>
    expectTypeOf<[]>().toExtend<Inline>()
    expectTypeOf<[number]>().toExtend<Inline>()
    expectTypeOf<Inline['length']>().toEqualTypeOf<0 | 1>()
  })

  it('derives CallArgs: an input that takes undefined is optional, as one declared only to reach the context', () => {
    const whoami = (_state: AppState, _input: undefined, context: ActionContext) => context.instanceId
    expectTypeOf<CallArgs<typeof whoami>>().toEqualTypeOf<[input?: undefined]>()
    const maybe = (_state: AppState, limit: number | undefined) => limit
    expectTypeOf<CallArgs<typeof maybe>>().toEqualTypeOf<[input?: number | undefined]>()
    expectTypeOf<[]>().toExtend<CallArgs<typeof maybe>>()
  })

  it('derives CallArgs: a required input', () => {
    expectTypeOf<CallArgs<Actions['addTodo']>>().toEqualTypeOf<[input: string]>()
    expectTypeOf<[]>().not.toExtend<CallArgs<Actions['addTodo']>>()
    expectTypeOf<CallArgs<Actions['toggle']>>().toEqualTypeOf<[input: { index: number; done?: boolean }]>()
  })

  it('derives CallArgs: the context parameter is dropped', () => {
    expectTypeOf<CallArgs<Actions['rename']>>().toEqualTypeOf<[input: string]>()
    expectTypeOf<CallArgs<(state: AppState, n: number, ctx: ActionContext) => void>>().toEqualTypeOf<[input: number]>()
  })

  it('derives CallResult from the return type', () => {
    expectTypeOf<CallResult<Actions['reset']>>().toEqualTypeOf<void>()
    expectTypeOf<CallResult<Actions['increment']>>().toEqualTypeOf<number>()
    expectTypeOf<CallResult<Actions['rename']>>().toEqualTypeOf<string | null>()
    expectTypeOf<CallResult<Actions['toggle']>>().toEqualTypeOf<{ done: boolean }>()
    expectTypeOf<CallResult<() => Promise<string>>>().toEqualTypeOf<string>()
  })

  it('derives ActionInput', () => {
    expectTypeOf<ActionInput<Actions['reset']>>().toEqualTypeOf<undefined>()
    expectTypeOf<ActionInput<Actions['increment']>>().toEqualTypeOf<number | undefined>()
    expectTypeOf<ActionInput<Actions['addTodo']>>().toEqualTypeOf<string>()
    expectTypeOf<ActionInput<Actions['rename']>>().toEqualTypeOf<string>()
  })

  it('makes DeepReadonly read-only all the way down', () => {
    expectTypeOf<DeepReadonly<AppState>>().toEqualTypeOf<{
      readonly counter: number
      readonly todos: readonly { readonly text: string; readonly done: boolean }[]
    }>()
    expectTypeOf<DeepReadonly<string>>().toEqualTypeOf<string>()
  })

  it('accepts zod schemas whose output matches the action input', () => {
    const def = defineStore({
      initialState: { counter: 0, todos: [] as Todo[] },
      actions: {
        increment(state, by: number = 1) {
          state.counter += by
        },
        add(state, todo: { text: string; done?: boolean }) {
          state.todos.push({ text: todo.text, done: todo.done ?? false })
        },
        clear(state) {
          state.todos = []
        },
      },
      inputs: {
        increment: z.number().int(),
        add: z.object({ text: z.string().min(1), done: z.boolean().optional() }),
      },
    })
    expectTypeOf(def.inputs.increment).toExtend<StandardSchemaV1<unknown, number | undefined> | undefined>()
    expect(Object.keys(def.inputs)).toEqual(['increment', 'add'])
  })

  it('refuses a zod schema whose output does not match the action input', () => {
    defineStore({
      initialState: { counter: 0 },
      actions: {
        increment(state, by: number = 1) {
          state.counter += by
        },
      },
      inputs: {
        // @ts-expect-error a string schema cannot feed a number input
        increment: z.string(),
      },
    })
  })

  it('refuses a schema for an action that does not exist', () => {
    expect(() =>
      defineStore({
        initialState: { counter: 0 },
        actions: {
          reset(state) {
            state.counter = 0
          },
        },
        inputs: {
          // @ts-expect-error no action of that name
          nope: z.number(),
        },
      }),
    ).toThrow(TypeError)
  })
})
