import { describe, expect, it } from 'vitest'
import { ServerMessageType, type ServerMessage } from '@ipc-state/protocol/wire'
import type { ExternalUpdate, Storage, StorageContext, StorageEntry } from '../storage/storage.js'
import { call, startTestServer } from '../../test/test-helpers.js'

/**
 * A storage shared with one other server, played by the test: `others` is what that server
 * committed and this one has not seen yet; a write made against an older version is refused.
 */
function sharedStorage(others: ExternalUpdate[]) {
  let context: StorageContext | undefined
  let head = others.filter((update) => update.kind === 'change').length
  const stored: StorageEntry[] = []
  const storage: Storage = {
    open: async (opened) => {
      context = opened
      return {
        epoch: 'shared',
        storeVersion: 1,
        version: 0,
        state: JSON.parse(opened.initialStateJson),
        instances: [],
        entries: [],
      }
    },
    migrate: async () => undefined,
    write: async (entries) => {
      const changes = entries.filter((entry) => entry.kind === 'change')
      if (changes.length > 0 && changes[0]!.version !== head + 1) {
        context!.receive(others.splice(0))
        return { conflict: true }
      }
      stored.push(...entries)
      head = changes.at(-1)?.version ?? head
    },
    close: async () => {},
  }
  return { storage, stored }
}

const changed = (messages: ServerMessage[]) =>
  messages.flatMap((message) => (message.type === ServerMessageType.StateChanged ? [message.data.version] : []))

describe('a server whose storage other servers share', () => {
  it('takes the changes another server wrote first, runs its call again on top, and answers a call that server applied from its record', async () => {
    // The other server applied +10 for its own client, then call 2 of our client's instance
    // (sent there first), before our server wrote anything.
    const { storage, stored } = sharedStorage([
      { kind: 'instance', instanceId: 'them', since: 0 },
      {
        kind: 'change',
        version: 1,
        patchesJson: '[{"op":"replace","path":["counter"],"value":10}]',
        instanceId: 'them',
        id: 1,
        valueJson: '10',
      },
      {
        kind: 'change',
        version: 2,
        patchesJson: '[{"op":"replace","path":["counter"],"value":11}]',
        instanceId: 'us',
        id: 2,
        valueJson: '11',
      },
    ])
    await using t = await startTestServer({ storage })
    // Our instance was known to the other server first: its record came with the changes.
    const { peer: replica } = await t.greet({ clientId: 'watcher', replica: true })
    const { peer } = await t.greet({ clientId: 'us', instanceId: 'us' })
    expect((await call(peer, 1, 'increment', 5)).result).toEqual({ value: 16, version: 3 })
    // The resend of call 2 is answered as the other server answered it, and not applied again.
    expect((await call(peer, 2, 'increment', 1)).result).toEqual({ value: 11, version: 2 })
    expect([t.server.version, t.server.state.counter]).toEqual([3, 16])
    expect(stored.filter((entry) => entry.kind === 'change')).toEqual([
      expect.objectContaining({ version: 3, instanceId: 'us', id: 1 }),
    ])
    // This server's replicas got every version, the other server's included, in order.
    await replica.waitFor((message) => changed([message]).includes(3))
    expect(changed(replica.messages)).toEqual([1, 2, 3])
  })

  it('takes changes that come while it writes nothing at once, and sends them on to its replicas', async () => {
    const { storage } = sharedStorage([])
    let context: StorageContext | undefined
    const open = storage.open
    storage.open = (opened) => {
      context = opened
      return open(opened)
    }
    await using t = await startTestServer({ storage })
    const { peer: replica } = await t.greet({ clientId: 'watcher', replica: true })
    context!.receive([
      {
        kind: 'change',
        version: 1,
        patchesJson: '[{"op":"replace","path":["counter"],"value":3}]',
        instanceId: 'x',
        id: 1,
        valueJson: '3',
      },
    ])
    expect([t.server.version, t.server.state.counter]).toEqual([1, 3])
    await replica.waitFor((message) => changed([message]).includes(1))
  })
})
