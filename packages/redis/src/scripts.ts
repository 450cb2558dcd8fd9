// The Lua scripts that keep one total order. Redis runs each atomically: no other command runs
// between its reads and its writes, so "the latest version is still the one these changes were
// made against" and "append them, with the answers they carry" are one step.
//
// The log is a stream whose entry ids are the store's own positions: `<version>-0` for the change
// that made `version`, `<version>-<n>` for the n-th client instance recorded after it. So a
// server reads "everything after what I have" with the version it has, and a missing entry shows
// as a hole in the numbering.

/** Fields per entry in the commit script's arguments. */
export const ENTRY_FIELDS = 9

/** Log entries the commit script returns to a server that lost the race. */
export const MISSED_PAGE = 1_000

/** Relayed calls and notices the calls stream keeps at most when no writer reads it. */
export const MAX_NOTICES = 100_000

/**
 * Milliseconds a server that lost a race holds the next turn: the others wait that long at most for
 * its write, so a server that loses again and again (slower, or busier) still gets its turn.
 */
export const TURN_MS = 50

/**
 * KEYS: meta, log, turn, the writer's lease, the stream of relayed calls. ARGV: the version the changes were made against (`-1`: no changes, no
 * check), the store version to record (`''`: keep it), the id of the last log entry the server has,
 * the server's id, the epoch of the store the server loaded, the store version the server runs, the
 * commit's number among the server's, the number of the server's commit that has to be the last
 * one written for this one to be (`''`: none, the batch was not sent behind another), then
 * {@link ENTRY_FIELDS} values per entry: kind (`c` change, `i` instance), instance id, call id (or
 * hello id), patches, value, whether there is a value (`1`/`0`), action, client id, and the mark of
 * a join or a leave (`''`: none; field `m`, kept only when there is one). A migration's
 * change also records the store version it migrated to (field `s`), so a server of an older one
 * following the log stops there.
 *
 * Returns `{1, version, seq, snapshot, {}, before}` when written, `before` the id of the log's last
 * entry before them (a server that had read up to it has now read up to its own); `{0, version, seq, snapshot, entries}` when
 * the store moved on (nothing written), with the first {@link MISSED_PAGE} log entries after the
 * server's, so the server that lost the race catches up without asking again; `{2, version, seq,
 * snapshot}` when another server that lost a race has the turn (nothing written: once that server
 * wrote, the batch was made against an older version and is run again on top of its change; if its
 * turn ran out without a write, send it again). The first server refused so is named next: the
 * turn passes to it when the holder writes. Nothing is written either, and the server must stop
 * writing, on `{-1}`: the store is gone from Redis; `{-2, id}`: the log's last entry is not the one
 * the meta key names (another program added it); `{-3, epoch}`: the store is another one than the
 * server loaded (flushed and made again); `{-4, storeVersion}`: the store was migrated to a newer
 * store version than the server runs; `{-5}`: the meta key holds what ipc-state did not write.
 *
 * A batch written by another server than the writer (while there is one: see relay/redis-relay.ts) also
 * adds a notice `n <version>` to the calls stream, in the same step: the writer does not follow the
 * log, where nearly every change is its own, and reads it when a notice comes.
 *
 * Why the commit's number: a server sends its next batch while the one it was made on top of is
 * still on its way. The script records, in the meta key's field `last`, the server and number of the
 * commit that wrote last; a batch made on top of one that was not written (it lost a race, or waited
 * for a turn) finds another there and is refused as a lost race, even when other servers happened to
 * write as many changes as the missing batch held, so that the version matches.
 *
 * Why turns: the server that just won has its next batch ready at once, while the loser first takes
 * the changes it missed and runs its calls again; without turns, a busier server could lose every
 * race for as long as the others keep writing. Why the turn passes on: a server refused for the turn
 * would otherwise race the holder's next batch once more after running its calls on top of the
 * holder's change, and lose again; passed on, each server's batch is written at its first try
 * after the change it waited for, and the servers take turns while they all write.
 *
 * The turn key holds the holder's id, then the next one's after a space, and always runs out: one
 * that does not, or is not a string, was not written here and is dropped.
 */
export const COMMIT_SCRIPT = `
local meta = redis.call('HMGET', KEYS[1], 'version', 'seq', 'snapshot', 'epoch', 'storeVersion', 'last')
if not meta[1] then return {-1} end
if meta[4] ~= ARGV[5] then return {-3, meta[4] or ''} end
local head = tonumber(meta[1])
local seq = tonumber(meta[2])
local snapshot = tonumber(meta[3])
local stored = tonumber(meta[5])
if not (head and seq and snapshot and stored) then return {-5} end
if stored > tonumber(ARGV[6]) then return {-4, stored} end
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if top and top[1] ~= head .. '-' .. seq then return {-2, top[1]} end
local base = tonumber(ARGV[1])
local chained = ARGV[8] == '' or meta[6] == ARGV[4] .. ':' .. ARGV[8]
if base >= 0 or not chained then
  local turn = redis.pcall('GET', KEYS[3])
  if type(turn) == 'table' or (turn and redis.call('PTTL', KEYS[3]) == -1) then
    -- Not a turn this script gave (another type, or one that never runs out): it would hold every
    -- server back for good.
    redis.call('DEL', KEYS[3])
    turn = false
  end
  local holder, waiting = nil, ''
  if turn then
    holder, waiting = string.match(turn, '^(%S*) ?(%S*)$')
    if not holder then holder, waiting = turn, '' end
  end
  if head ~= base or not chained then
    if not turn then redis.call('SET', KEYS[3], ARGV[4], 'PX', ${TURN_MS}) end
    return {0, head, seq, snapshot, redis.call('XRANGE', KEYS[2], '(' .. ARGV[3], '+', 'COUNT', ${MISSED_PAGE})}
  end
  if turn and holder ~= ARGV[4] then
    if waiting == '' then redis.call('SET', KEYS[3], holder .. ' ' .. ARGV[4], 'KEEPTTL') end
    return {2, head, seq, snapshot}
  end
  if turn and waiting ~= '' then redis.call('SET', KEYS[3], waiting, 'PX', ${TURN_MS})
  elseif turn then redis.call('DEL', KEYS[3]) end
end
local v = head
local before = head .. '-' .. seq
for i = 9, #ARGV, ${ENTRY_FIELDS} do
  if ARGV[i] == 'c' then
    v = v + 1
    seq = 0
    local fields = {'t', 'c', 'i', ARGV[i + 1], 'n', ARGV[i + 2], 'p', ARGV[i + 3],
      'v', ARGV[i + 4], 'h', ARGV[i + 5], 'a', ARGV[i + 6], 'k', ARGV[i + 7]}
    if ARGV[2] ~= '' and v == head + 1 then
      table.insert(fields, 's')
      table.insert(fields, ARGV[2])
    end
    if ARGV[i + 8] ~= '' then
      table.insert(fields, 'm')
      table.insert(fields, ARGV[i + 8])
    end
    redis.call('XADD', KEYS[2], v .. '-0', unpack(fields))
  else
    seq = seq + 1
    redis.call('XADD', KEYS[2], v .. '-' .. seq, 't', 'i', 'i', ARGV[i + 1], 'n', ARGV[i + 2])
  end
end
redis.call('HSET', KEYS[1], 'version', v, 'seq', seq, 'last', ARGV[4] .. ':' .. ARGV[7])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'storeVersion', ARGV[2]) end
local writer = redis.pcall('GET', KEYS[4])
if type(writer) == 'string' and writer ~= ARGV[4] then
  -- pcall: the changes are written already, and a script's writes are not undone by an error (a
  -- calls stream another program made unable to take an entry must not fail a written commit).
  redis.pcall('XADD', KEYS[5], 'MAXLEN', '~', ${MAX_NOTICES}, '*', 'n', v)
end
return {1, v, seq, snapshot, {}, before}
`

/**
 * KEYS: meta, snapshot, log. ARGV: a new epoch, the store version, the snapshot of the initial
 * state. Makes the store when Redis holds none, its initial state as the snapshot of version 0: a
 * server of a later store version must find the state it migrates from, not its own initial state.
 * The epoch it records is the store's identity: every commit checks it, so a server that loaded
 * a store refuses the one made after it was flushed.
 * Returns `{epoch, version, seq, storeVersion, snapshot}`, or `{'damaged'}` when the meta key is
 * gone but the log or the snapshot is still there.
 */
export const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return {'damaged'} end
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'version', 0, 'seq', 0, 'storeVersion', ARGV[2], 'snapshot', 0)
end
return redis.call('HMGET', KEYS[1], 'epoch', 'version', 'seq', 'storeVersion', 'snapshot')
`

/**
 * KEYS: meta, log, snapshot, turn, lease. Returns the commands (with their key) that the user Redis
 * knows this connection as may not run, of those the storage needs: empty when it may run all, or
 * when Redis is older than 7 and cannot tell.
 */
export const PERMISSIONS_SCRIPT = `
local missing = {}
if not redis.acl_check_cmd then return missing end
local function check(key, command, ...)
  if not redis.acl_check_cmd(command, ...) then table.insert(missing, string.upper(command) .. ' ' .. key) end
end
check(KEYS[1], 'hget', KEYS[1], 'f')
check(KEYS[1], 'hmget', KEYS[1], 'f')
check(KEYS[1], 'hset', KEYS[1], 'f', 'v')
check(KEYS[1], 'exists', KEYS[1])
check(KEYS[2], 'xadd', KEYS[2], '1-0', 'f', 'v')
check(KEYS[2], 'xrange', KEYS[2], '-', '+')
check(KEYS[2], 'xrevrange', KEYS[2], '+', '-')
check(KEYS[2], 'xread', 'STREAMS', KEYS[2], '0-0')
check(KEYS[2], 'xtrim', KEYS[2], 'MINID', '0')
check(KEYS[3], 'get', KEYS[3])
check(KEYS[3], 'set', KEYS[3], 'v')
check(KEYS[4], 'get', KEYS[4])
check(KEYS[4], 'set', KEYS[4], 'v', 'PX', '1')
check(KEYS[4], 'del', KEYS[4])
check(KEYS[4], 'pttl', KEYS[4])
check(KEYS[5], 'set', KEYS[5], 'v', 'PX', '1')
check(KEYS[5], 'mget', KEYS[5])
check(KEYS[5], 'del', KEYS[5])
return missing
`

/**
 * KEYS: meta, snapshot, log. ARGV: the snapshot's version, the snapshot, the epoch of the store the
 * server loaded, the store version the server runs. Stores it when it is newer than the one stored
 * (and no newer than the latest version), and trims the log to the entries after the one it
 * replaces: a server that lags less than a snapshot behind catches up from the log, one further
 * behind reloads a snapshot.
 * Returns the version of the snapshot stored after it; `-1` (nothing written) when the store is
 * gone or another one than the server loaded, `-2` when it was migrated to a newer store version.
 */
export const SNAPSHOT_SCRIPT = `
local meta = redis.call('HMGET', KEYS[1], 'snapshot', 'epoch', 'storeVersion', 'version')
if meta[2] ~= ARGV[3] then return -1 end
if (tonumber(meta[3]) or 0) > tonumber(ARGV[4]) then return -2 end
local current = tonumber(meta[1]) or 0
local version = tonumber(ARGV[1])
if version <= current or version > (tonumber(meta[4]) or 0) then return current end
-- Keeps the entries after the snapshot it replaces: those after \`<current>-0\`.
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[1], 'snapshot', version)
redis.call('XTRIM', KEYS[3], 'MINID', current .. '-1')
return version
`

/** The scripts the storage's main connection runs, as ioredis defines them on it. */
export const SCRIPTS = {
  ipcStateCommit: { numberOfKeys: 5, lua: COMMIT_SCRIPT },
  ipcStateInit: { numberOfKeys: 3, lua: INIT_SCRIPT },
  ipcStateSnapshot: { numberOfKeys: 3, lua: SNAPSHOT_SCRIPT },
  ipcStatePermissions: { numberOfKeys: 5, lua: PERMISSIONS_SCRIPT },
}
