import type { IpcStateError } from '@ipc-state/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HookJob } from '../calls/server-jobs.js'
import type { PresenceMark, ServerLeases } from '../storage/storage.js'
import { Presence } from './presence.js'

const GRACE = 1_000

/** A presence whose queued joins and leaves run at once, each stored unless `failing` says otherwise. */
function presence(options: { failing?: () => boolean } = {}) {
  const changes: { name: string; event: unknown; mark: PresenceMark }[] = []
  const target = new Presence({
    store: { onClientJoin: () => undefined, onClientLeave: () => undefined },
    leaveGrace: GRACE,
    logger: {},
    hook(job: Omit<HookJob, 'session' | 'action'>) {
      const due = job.due()
      if (due === undefined) return
      job.applied(due.mark)
      if (options.failing?.()) {
        target.rollback()
        job.failed({ message: 'disk full' } as IpcStateError)
        return
      }
      changes.push({ name: due.hook === undefined ? 'moved' : due.name, event: due.event, mark: due.mark })
      job.committed(due.mark)
    },
  })
  const leaves = () => changes.filter((change) => change.name === 'onClientLeave').map((change) => change.event)
  return { target, changes, leaves }
}

/** Leases of servers `alive`, this one named `me`. */
function leases(alive: Set<string>, me = 'me'): ServerLeases {
  return { serverId: me, leaseMs: 400, alive: async (ids) => new Set(ids.filter((id) => alive.has(id))) }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('Presence', () => {
  it('joins an instance at its first connection only, and leaves it at once when it says goodbye', () => {
    const { target, changes, leaves } = presence()
    target.start()
    target.connected('i1', 'c1')
    target.connected('i1', 'c1')
    expect(changes.map((change) => change.event)).toEqual([{ clientId: 'c1', instanceId: 'i1' }])
    target.bye('i1')
    target.disconnected('i1')
    target.disconnected('i1')
    vi.advanceTimersByTime(GRACE * 2)
    expect(leaves()).toEqual([{ clientId: 'c1', instanceId: 'i1', reason: 'closed' }])
    expect(target.image()).toEqual([])
  })

  it('leaves a lost instance once its grace ran out, and not one that came back in time', () => {
    const { target, leaves } = presence()
    target.start()
    target.connected('back', 'c')
    target.connected('gone', 'c')
    target.disconnected('back')
    target.disconnected('gone')
    vi.advanceTimersByTime(GRACE - 1)
    target.connected('back', 'c')
    expect(leaves()).toEqual([])
    vi.advanceTimersByTime(GRACE)
    expect(leaves()).toEqual([{ clientId: 'c', instanceId: 'gone', reason: 'lost' }])
    expect(target.image().map((present) => present.instanceId)).toEqual(['back'])
  })

  it('waits for an instance until its last connection closed', () => {
    const { target, leaves } = presence()
    target.start()
    target.connected('i', 'c')
    target.connected('i', 'c')
    target.disconnected('i')
    vi.advanceTimersByTime(GRACE * 2)
    expect(leaves()).toEqual([])
    target.disconnected('i')
    vi.advanceTimersByTime(GRACE)
    expect(leaves()).toEqual([{ clientId: 'c', instanceId: 'i', reason: 'lost' }])
  })

  it('leaves the instances restored from the storage that do not come back within the grace of the start', () => {
    const { target, leaves } = presence()
    target.restore([
      { instanceId: 'stays', clientId: 'c' },
      { instanceId: 'never', clientId: 'c' },
    ])
    target.start()
    target.connected('stays', 'c')
    vi.advanceTimersByTime(GRACE)
    expect(leaves()).toEqual([{ clientId: 'c', instanceId: 'never', reason: 'server-restart' }])
    // The one that came back was present already: it did not join again.
    expect(target.image().map((present) => present.instanceId)).toEqual(['stays'])
  })

  it('tries a leave again after the grace when its change could not be stored, and leaves once', () => {
    let failing = true
    const { target, leaves } = presence({ failing: () => failing })
    target.restore([{ instanceId: 'i', clientId: 'c' }])
    target.start()
    vi.advanceTimersByTime(GRACE)
    expect(leaves()).toEqual([])
    expect(target.image()).toEqual([{ instanceId: 'i', clientId: 'c' }])
    failing = false
    vi.advanceTimersByTime(GRACE)
    vi.advanceTimersByTime(GRACE)
    expect(leaves()).toEqual([{ clientId: 'c', instanceId: 'i', reason: 'server-restart' }])
  })

  it('leaves nothing once closed, and keeps who is present', () => {
    const { target, changes } = presence()
    target.start()
    target.connected('i', 'c')
    target.disconnected('i')
    target.close()
    vi.advanceTimersByTime(GRACE * 2)
    expect(changes).toHaveLength(1)
    expect(target.image()).toEqual([{ instanceId: 'i', clientId: 'c' }])
  })

  it('tracks nothing for a store without hooks', () => {
    const hook = vi.fn()
    const target = new Presence({ store: {}, leaveGrace: GRACE, logger: {}, hook })
    target.start()
    target.connected('i', 'c')
    target.bye('i')
    expect(hook).not.toHaveBeenCalled()
    expect(target.enabled).toBe(false)
  })

  describe('with servers sharing the storage', () => {
    it('leaves the instances of a server whose lease ran out, unless they moved here in time', async () => {
      const alive = new Set(['me', 'other'])
      const { target, changes, leaves } = presence()
      target.restore([
        { instanceId: 'stuck', clientId: 'c', server: 'other' },
        { instanceId: 'mover', clientId: 'c', server: 'other' },
      ])
      target.start(leases(alive))
      await vi.advanceTimersByTimeAsync(GRACE * 2)
      expect(leaves()).toEqual([])
      alive.delete('other')
      // Found dead at the next look (a quarter lease), then the grace.
      await vi.advanceTimersByTimeAsync(100)
      target.connected('mover', 'c')
      await vi.advanceTimersByTimeAsync(GRACE)
      expect(leaves()).toEqual([{ clientId: 'c', instanceId: 'stuck', reason: 'server-lost' }])
      // The mover became this server's without a hook running.
      expect(changes.filter((change) => change.name === 'moved').map((change) => change.mark)).toEqual([
        { joined: { instanceId: 'mover', clientId: 'c', server: 'me' } },
      ])
    })

    it('takes no server for dead while the storage cannot tell', async () => {
      const { target, leaves } = presence()
      target.restore([{ instanceId: 'i', clientId: 'c', server: 'other' }])
      target.start({ serverId: 'me', leaseMs: 400, alive: () => Promise.reject(new Error('unreachable')) })
      await vi.advanceTimersByTimeAsync(GRACE * 3)
      expect(leaves()).toEqual([])
    })

    it('joins again an instance connected here that another server left', () => {
      const { target, changes } = presence()
      target.start(leases(new Set(['me'])))
      target.connected('i', 'c')
      target.external({ left: 'i' })
      expect(changes.map((change) => change.mark)).toEqual([
        { joined: { instanceId: 'i', clientId: 'c', server: 'me' } },
        { joined: { instanceId: 'i', clientId: 'c', server: 'me' } },
      ])
      target.replace([])
      expect(changes).toHaveLength(3)
      expect(target.image()).toEqual([{ instanceId: 'i', clientId: 'c', server: 'me' }])
    })

    it('does not leave an instance another server already left', () => {
      const { target, leaves } = presence()
      target.start(leases(new Set(['me'])))
      target.connected('i', 'c')
      target.disconnected('i')
      target.external({ left: 'i' })
      vi.advanceTimersByTime(GRACE)
      expect(leaves()).toEqual([])
    })
  })
})
