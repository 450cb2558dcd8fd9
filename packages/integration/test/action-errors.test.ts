import { connect, ErrorCode, type IpcStateClient } from '@ipc-state/client'
import { describe, expect, it } from 'vitest'
import { caught } from '../src/checks.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

describe('action errors', () => {
  it('bad arguments, a throwing action and an unknown action answer with their codes and change nothing', async () => {
    await using server = await startServer()
    await using client = await connect<TestStore>(server.address)
    await client.actions.increment(3)
    await client.actions.addMessage('hello')
    const before = await server.view()
    expect(before).toMatchObject({ version: 2, state: { counter: 3 } })

    const badArguments = await caught(client.actions.addMessage(42 as any))
    expect(badArguments.code).toBe(ErrorCode.BAD_ARGUMENTS)
    expect(badArguments.message).toContain('addMessage')
    expect(badArguments.message).toMatch(/string/i)
    expect(badArguments.data).toMatchObject({ issues: [expect.objectContaining({ message: expect.any(String) })] })

    const tooLong = await caught(client.actions.addMessage('x'.repeat(1001)))
    expect(tooLong.code).toBe(ErrorCode.BAD_ARGUMENTS)
    expect(tooLong.message).toMatch(/1000/)

    const failed = await caught(client.actions.explode('the reason it blew up'))
    expect(failed.code).toBe(ErrorCode.ACTION_FAILED)
    expect(failed.message).toContain('the reason it blew up')
    expect(failed.message).toContain('explode')

    const unknown = await caught((client as unknown as IpcStateClient<any>).call('noSuchAction', 1))
    expect(unknown.code).toBe(ErrorCode.UNKNOWN_ACTION)
    expect(unknown.message).toContain('noSuchAction')

    const inherited = await caught((client as unknown as IpcStateClient<any>).call('toString', undefined))
    expect(inherited.code).toBe(ErrorCode.UNKNOWN_ACTION)

    const after = await server.view()
    expect(after).toEqual(before)
    expect(client.version).toBe(before.version)
    expect(client.state).toEqual(before.state)
    // The next good call makes exactly the next version.
    expect(await client.actions.increment(1)).toBe(4)
    expect((await server.view()).version).toBe(before.version + 1)
  })
})
