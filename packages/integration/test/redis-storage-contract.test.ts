// The Redis storage through the storage contract's conformance suite, against a real redis-server.
import { redisStorage } from '@ipc-state/redis'
import { defineStorageContract } from '@ipc-state/server/testing'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { type RedisServer, startRedisServer } from '../src/storage/redis-server.js'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedisServer()
})
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]()
})

let places = 0

/** A store of its own under a fresh key per case; a snapshot every 5 changes, so the long cases read snapshots and a trimmed log. */
function redisPlace() {
  const key = `contract-${++places}`
  return {
    storage: () => redisStorage({ url: redis.url, key, snapshotEvery: 5 }),
    // Redis out of memory refuses every write (its default policy evicts nothing) until the limit goes.
    failWrites: async () => {
      await redis.command('CONFIG', 'SET', 'maxmemory', '1')
      return async () => void (await redis.command('CONFIG', 'SET', 'maxmemory', '0'))
    },
  }
}

describe('redisStorage keeps the storage contract', () => {
  defineStorageContract(it, redisPlace, { shared: true, failWrites: true, pipelined: true })
})
