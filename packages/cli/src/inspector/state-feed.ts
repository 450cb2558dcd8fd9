// What inspector pages are sent: the state, each change with its patches (the server's last ones first), and the clients.
import type { ChangeReason, ChangesListResult, RecentChange } from '@ipc-state/client'
import type { AnyClient } from '../open-client.js'
import type { EventStreams } from './event-streams.js'
import { diffStates, MAX_PATCHES } from './state-diff.js'
import type { Patch } from '@ipc-state/protocol'

/** One row of the page's log of changes. */
export interface ChangeEntry {
  version: number
  epoch: string
  /** When the server published it (a change from before the inspector started), or the inspector received it, as an ISO date. */
  time: string
  reason: ChangeReason
  /** The action that made it, as `watch` shows it: with `reason: 'change'`, when the server names it. */
  action?: string
  /** The client that called the action, on the same terms. */
  clientId?: string
  /** What changed, as patches from the state before. */
  patches: Patch[]
  /** Patches left out of `patches`. */
  more: number
  /** Present, and true, when the server kept the change without its patches (they were too large). */
  patchesOmitted?: true
}

/** A change the server kept, as a row of the log. */
function entryOf(change: RecentChange, epoch: string): ChangeEntry {
  const entry: ChangeEntry = {
    version: change.version,
    epoch,
    time: new Date(change.at).toISOString(),
    reason: 'change',
    patches: change.patches.slice(0, MAX_PATCHES),
    more: Math.max(0, change.patches.length - MAX_PATCHES),
  }
  if (change.action !== undefined) entry.action = change.action
  if (change.clientId !== undefined) entry.clientId = change.clientId
  if (change.patchesOmitted === true) entry.patchesOmitted = true
  return entry
}

/** Options for {@link createStateFeed}. */
export interface StateFeedOptions {
  /** A client with a replica. */
  client: AnyClient
  streams: EventStreams
  /**
   * Changes kept to show a page that opens later.
   * @default 200
   */
  historySize?: number
  /**
   * How often the open pages are sent the server's description (`server/info`): its clients.
   * @default 1000
   */
  infoIntervalMs?: number
}

/** What a page is sent on its stream. */
export const FeedEvent = Object.freeze({
  /** `{ state, version, epoch }`, when the page opens and after changes (at most one per turn of the event loop). */
  State: 'state',
  /** A {@link ChangeEntry}. */
  Change: 'change',
  /**
   * The kept {@link ChangeEntry} list, oldest first: when the page opens, and again once the
   * server's last changes from before the inspector started are added to it.
   */
  History: 'history',
  /** `{ status, path, clientId }`: the inspector's own connection. */
  Status: 'status',
  /** `{ info }` (a `ServerInfoResult`) or `{ error }`. */
  Info: 'info',
} as const)

/**
 * Follows the client's replica as `watch` does (one subscription; each change with the action and
 * client that made it) and sends it to the open pages: every change as a log entry, the state
 * after them, and the server's description every `infoIntervalMs` while a page is open. Each time
 * the client connects, the changes the server kept (`recentChanges`) from before the oldest one
 * seen here are put first in the log, so a page shows what happened before the inspector started.
 * Returns a function that stops it.
 */
export function createStateFeed(options: StateFeedOptions): {
  greet: (send: (event: string, data: unknown) => void) => void
  stop: () => void
} {
  const { client, streams } = options
  const historySize = options.historySize ?? 200
  const history: ChangeEntry[] = []
  let previous: unknown = client.state
  let statePending = false

  const stateEvent = () => ({ state: client.state, version: client.version, epoch: client.epoch })
  const statusEvent = () => ({ status: client.status, path: client.path, clientId: client.clientId })

  const stopChanges = client.subscribe((state, info) => {
    const { patches, more } = diffStates(previous, state)
    previous = state
    const entry: ChangeEntry = {
      version: info.version,
      epoch: info.epoch,
      time: new Date().toISOString(),
      reason: info.reason,
      patches,
      more,
    }
    if (info.action !== undefined) entry.action = info.action
    if (info.clientId !== undefined) entry.clientId = info.clientId
    history.push(entry)
    if (history.length > historySize) history.shift()
    streams.broadcast(FeedEvent.Change, entry)
    // A burst of changes is one new state for the page to draw.
    if (statePending) return
    statePending = true
    setImmediate(() => {
      statePending = false
      streams.broadcast(FeedEvent.State, stateEvent())
    })
  })
  /** Puts the server's kept changes older than every entry of the same epoch first. */
  const addEarlier = ({ epoch, changes }: ChangesListResult): void => {
    const oldest = history.find((entry) => entry.epoch === epoch)?.version ?? Number.POSITIVE_INFINITY
    const earlier = changes.filter((change) => change.version < oldest).map((change) => entryOf(change, epoch))
    if (earlier.length === 0) return
    // Before the first entry of that epoch: entries of an earlier run stay before them.
    const at = history.findIndex((entry) => entry.epoch === epoch)
    history.splice(at === -1 ? history.length : at, 0, ...earlier)
    if (history.length > historySize) history.splice(0, history.length - historySize)
    streams.broadcast(FeedEvent.History, history)
  }
  let fetching = false
  const fetchEarlier = (): void => {
    if (fetching) return
    fetching = true
    // A server older than changes/list answers BAD_REQUEST: the log then starts with the inspector.
    client
      .recentChanges()
      .then(addEarlier, () => undefined)
      .finally(() => {
        fetching = false
      })
  }
  if (client.status === 'connected') fetchEarlier()
  const stopStatus = client.onStatusChange((status) => {
    streams.broadcast(FeedEvent.Status, statusEvent())
    if (status === 'connected') fetchEarlier()
  })

  let asking = false
  const sendInfo = async (send: (event: string, data: unknown) => void): Promise<void> => {
    try {
      send(FeedEvent.Info, { info: await client.serverInfo() })
    } catch (error) {
      send(FeedEvent.Info, { error: error instanceof Error ? error.message : String(error) })
    }
  }
  const timer = setInterval(() => {
    if (asking || streams.size === 0 || client.status !== 'connected') return
    asking = true
    void sendInfo(streams.broadcast).finally(() => {
      asking = false
    })
  }, options.infoIntervalMs ?? 1000)
  timer.unref()

  return {
    greet(send) {
      send(FeedEvent.Status, statusEvent())
      send(FeedEvent.History, history)
      send(FeedEvent.State, stateEvent())
      if (client.status === 'connected') void sendInfo(send)
    },
    stop() {
      clearInterval(timer)
      stopChanges()
      stopStatus()
    },
  }
}
