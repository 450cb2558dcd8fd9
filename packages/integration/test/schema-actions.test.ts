import { connect, ErrorCode } from '@ipc-state/client'
import { action, createServer, defineStore } from '@ipc-state/server'
import { memoryTransport } from '@ipc-state/server/testing'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { caught } from '../src/checks.js'

const notes = defineStore({
  initialState: { notes: [] as { text: string; priority: number; from: string }[] },
  actions: {
    add: action(z.object({ text: z.string().min(1).max(20), priority: z.number().int().default(3) }), (state, note, context) => {
      state.notes.push({ ...note, from: context.clientId })
      return state.notes.length
    }),
  },
})

// The schema an action carries from `action()` is the server's, as one given in `inputs` is.
describe('actions made with action(schema, run)', () => {
  it("run on the schema's output, refuse input that fails it, and describe it in server/info", async () => {
    const memory = memoryTransport()
    await using _server = await createServer({ store: notes, transport: memory.server })
    await using client = await connect<typeof notes>({ transport: memory.client, clientId: 'writer' })

    expect(await client.actions.add({ text: 'ship it' })).toBe(1)
    // The default the schema fills in is what the action stored.
    expect(client.state.notes).toEqual([{ text: 'ship it', priority: 3, from: 'writer' }])

    const tooLong = await caught(client.actions.add({ text: 'x'.repeat(21) }))
    expect(tooLong.code).toBe(ErrorCode.BAD_ARGUMENTS)
    expect(tooLong.data).toMatchObject({ issues: [expect.objectContaining({ path: ['text'] })] })
    const wrongType = await caught(client.actions.add({ text: 'ok', priority: 'high' } as never))
    expect(wrongType.code).toBe(ErrorCode.BAD_ARGUMENTS)
    expect(client.state.notes).toHaveLength(1)

    const { actions } = await client.serverInfo()
    expect(actions).toEqual([
      expect.objectContaining({
        name: 'add',
        hasInputSchema: true,
        inputSchema: expect.objectContaining({ type: 'object', required: expect.arrayContaining(['text']) }),
      }),
    ])
  })
})
