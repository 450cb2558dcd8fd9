/**
 * `redisStorage`, which lets several servers, on one or many hosts, share one store through Redis.
 * @module @ipc-state/redis
 */
export { redisStorage } from './redis-storage.js'
export type { RedisStorageOptions } from './redis-options.js'
