import { defineStore } from '@ipc-state/protocol'
import { SERVER_INFO_MAX_ACTIONS, SERVER_INFO_MAX_SCHEMA_BYTES, SERVER_INFO_MAX_SCHEMAS_BYTES } from '@ipc-state/protocol/wire'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { actionCatalog, describeActions } from './action-catalog.js'

describe('describeActions', () => {
  it("lists the actions by name with their inputs' JSON Schemas where the schemas give one", () => {
    const store = defineStore({
      initialState: { counter: 0 },
      actions: {
        increment(state, by: number = 1) {
          state.counter += by
        },
        reset(state) {
          state.counter = 0
        },
        at(_state, when: Date) {
          return when
        },
        addMessage(_state, text: string) {
          return text
        },
      },
      inputs: {
        increment: z.number().int().optional(),
        // A date has no JSON Schema: zod throws, and the schema is said to be unsupported.
        at: z.date(),
        // A Standard Schema without the JSON Schema converter.
        addMessage: {
          '~standard': { version: 1, vendor: 'hand-made', validate: (value: unknown) => ({ value: value as string }) },
        },
      },
    })
    expect(describeActions(store.actions, store.inputs)).toEqual({
      actions: [
        { name: 'addMessage', hasInputSchema: true, inputSchemaOmitted: 'unsupported' },
        { name: 'at', hasInputSchema: true, inputSchemaOmitted: 'unsupported' },
        {
          name: 'increment',
          hasInputSchema: true,
          inputSchema: expect.objectContaining({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'integer' }),
        },
        { name: 'reset', hasInputSchema: false },
      ],
      actionCount: 4,
    })
  })

  it(`leaves out a schema past ${SERVER_INFO_MAX_SCHEMA_BYTES} bytes, and those past ${SERVER_INFO_MAX_SCHEMAS_BYTES} in all`, () => {
    const noop = () => undefined
    const huge = z.enum(Array.from({ length: 10_000 }, (_, i) => `value-number-${i}`) as [string, ...string[]])
    const medium = z.enum(Array.from({ length: 2_500 }, (_, i) => `value-${i}-xxxxxxxxx`) as [string, ...string[]])
    expect(JSON.stringify(medium.toJSONSchema()).length).toBeLessThan(SERVER_INFO_MAX_SCHEMA_BYTES)
    const names = Array.from({ length: 40 }, (_, i) => `m${String(i).padStart(2, '0')}`)
    const actions = Object.fromEntries([['huge', noop], ...names.map((name) => [name, noop])])
    const inputs = Object.fromEntries([['huge', huge], ...names.map((name) => [name, medium])])
    const { actions: listed } = describeActions(actions, inputs)
    expect(listed.find((action) => action.name === 'huge')).toEqual({
      name: 'huge',
      hasInputSchema: true,
      inputSchemaOmitted: 'too-large',
    })
    const kept = listed.filter((action) => action.inputSchema !== undefined)
    const left = listed.filter((action) => action.inputSchemaOmitted === 'too-large' && action.name !== 'huge')
    expect(kept.length).toBeGreaterThan(0)
    expect(left.length).toBeGreaterThan(0)
    expect(kept.length + left.length).toBe(names.length)
    expect(JSON.stringify(kept.map((action) => action.inputSchema)).length).toBeLessThanOrEqual(SERVER_INFO_MAX_SCHEMAS_BYTES)
  })

  it(`lists at most ${SERVER_INFO_MAX_ACTIONS} actions and counts them all, leaving out names no call could give`, () => {
    const noop = () => undefined
    const actions = Object.fromEntries(
      Array.from({ length: SERVER_INFO_MAX_ACTIONS + 10 }, (_, i) => [`a${String(i).padStart(5, '0')}`, noop]),
    )
    actions['b'.repeat(300)] = noop
    const catalog = describeActions(actions, {})
    expect(catalog.actions).toHaveLength(SERVER_INFO_MAX_ACTIONS)
    expect(catalog.actionCount).toBe(SERVER_INFO_MAX_ACTIONS + 11)
    expect(describeActions({ ['b'.repeat(300)]: noop, ok: noop }, {})).toEqual({
      actions: [{ name: 'ok', hasInputSchema: false }],
      actionCount: 2,
    })
  })

  it('describes the actions once, on first use', () => {
    const input = vi.fn(() => ({ type: 'string' }))
    const schema = {
      '~standard': {
        version: 1,
        vendor: 'counting',
        validate: (value: unknown) => ({ value }),
        jsonSchema: { input, output: input },
      },
    }
    const catalog = actionCatalog({ say: () => undefined }, { say: schema })
    expect(input).not.toHaveBeenCalled()
    expect(catalog().actions).toEqual([{ name: 'say', hasInputSchema: true, inputSchema: { type: 'string' } }])
    catalog()
    expect(input).toHaveBeenCalledTimes(1)
  })
})
