export { redisStorage } from './redis-storage.js'
export type { RedisStorageOptions } from './redis-options.js'
