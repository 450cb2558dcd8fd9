// The Lua scripts that keep one total order. Redis runs each atomically: no other command runs
// between its reads and its writes, so "the latest version is still the one these changes were
// made against" and "append them, with the answers they carry" are one step.
//
// The log is a stream whose entry ids are the store's own positions: `<version>-0` for the change
// that made `version`, `<version>-<n>` for the n-th client instance recorded after it. So a
// server reads "everything after what I have" with the version it has, and a missing entry shows
// as a hole in the numbering.

/** Fields per entry in the commit script's arguments. */
export const ENTRY_FIELDS = 8

/** Log entries the commit script returns to a server that lost the race. */
export const MISSED_PAGE = 1_000

/**
 * Milliseconds a server that lost a race holds the next turn: the others wait that long at most for
 * its write, so a server that loses again and again (slower, or busier) still gets its turn.
 */
export const TURN_MS = 50

/**
 * KEYS: meta, log, turn. ARGV: the version the changes were made against (`-1`: no changes, no
 * check), the store version to record (`''`: keep it), the id of the last log entry the server has,
 * the server's id, then {@link ENTRY_FIELDS} values per entry: kind (`c` change, `i` instance),
 * instance id, call id (or hello id), patches, value, whether there is a value (`1`/`0`), action,
 * client id.
 * Returns `{1, version, seq, snapshot}` when written; `{0, version, seq, snapshot, entries}` when
 * the store moved on (nothing written), with the first {@link MISSED_PAGE} log entries after the
 * server's, so the server that lost the race catches up without asking again; `{2, version, seq,
 * snapshot}` when another server that lost a race has the turn (nothing written: send it again once
 * that server wrote, or its turn is over); `{-1}` when the store is gone from Redis.
 *
 * Why turns: the server that just won has its next batch ready at once, while the loser first takes
 * the changes it missed and runs its calls again; without turns, a busier server could lose every
 * race for as long as the others keep writing.
 */
export const COMMIT_SCRIPT = `
local head = redis.call('HGET', KEYS[1], 'version')
if not head then return {-1} end
head = tonumber(head)
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local snapshot = tonumber(redis.call('HGET', KEYS[1], 'snapshot'))
local base = tonumber(ARGV[1])
if base >= 0 then
  local turn = redis.call('GET', KEYS[3])
  if head ~= base then
    if not turn then redis.call('SET', KEYS[3], ARGV[4], 'PX', ${TURN_MS}) end
    return {0, head, seq, snapshot, redis.call('XRANGE', KEYS[2], '(' .. ARGV[3], '+', 'COUNT', ${MISSED_PAGE})}
  end
  if turn and turn ~= ARGV[4] then return {2, head, seq, snapshot} end
  if turn then redis.call('DEL', KEYS[3]) end
end
local v = head
for i = 5, #ARGV, ${ENTRY_FIELDS} do
  if ARGV[i] == 'c' then
    v = v + 1
    seq = 0
    redis.call('XADD', KEYS[2], v .. '-0', 't', 'c', 'i', ARGV[i + 1], 'n', ARGV[i + 2], 'p', ARGV[i + 3],
      'v', ARGV[i + 4], 'h', ARGV[i + 5], 'a', ARGV[i + 6], 'k', ARGV[i + 7])
  else
    seq = seq + 1
    redis.call('XADD', KEYS[2], v .. '-' .. seq, 't', 'i', 'i', ARGV[i + 1], 'n', ARGV[i + 2])
  end
end
redis.call('HSET', KEYS[1], 'version', v, 'seq', seq)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'storeVersion', ARGV[2]) end
return {1, v, seq, snapshot}
`

/**
 * KEYS: meta, snapshot. ARGV: a new epoch, the store version, the snapshot of the initial state.
 * Makes the store when Redis holds none, its initial state as the snapshot of version 0: a server
 * of a later store version must find the state it migrates from, not its own initial state.
 * Returns `{epoch, version, seq, storeVersion, snapshot}`.
 */
export const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'version', 0, 'seq', 0, 'storeVersion', ARGV[2], 'snapshot', 0)
end
return redis.call('HMGET', KEYS[1], 'epoch', 'version', 'seq', 'storeVersion', 'snapshot')
`

/**
 * KEYS: meta, snapshot, log. ARGV: the snapshot's version, the snapshot. Stores it when it is newer
 * than the one stored, and trims the log to the entries after the one it replaces: a server that
 * lags less than a snapshot behind catches up from the log, one further behind reloads a snapshot.
 * Returns the version of the snapshot stored after it.
 */
export const SNAPSHOT_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'snapshot'))
local version = tonumber(ARGV[1])
if version <= current then return current end
-- Keeps the entries after the snapshot it replaces: those after \`<current>-0\`.
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[1], 'snapshot', version)
redis.call('XTRIM', KEYS[3], 'MINID', current .. '-1')
return version
`
