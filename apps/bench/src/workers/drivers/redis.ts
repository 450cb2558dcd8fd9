// The Redis side: ioredis over the instance's Unix socket, with its default options.
import { Redis } from 'ioredis'
import type { Address } from '../configs.js'
import type { Driver, Side } from './driver.js'

const CHANNEL = 'bench'

function redisPath(address: Address): string {
  if (address.kind !== 'redis') throw new TypeError(`not a Redis address: ${address.kind}`)
  return address.path
}

async function open(path: string): Promise<Redis> {
  const redis = new Redis({ path })
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve)
    redis.once('error', reject)
  })
  return redis
}

/** The Redis side. `pushShift` is `RPUSH` then `LPOP` in one `MULTI`, atomic as an action is. */
export const redisSide: Side = {
  async connect(config) {
    const redis = await open(redisPath(config.address))
    const driver: Driver = {
      call(op, value) {
        switch (op) {
          case 'incr':
            return redis.incr('counter')
          case 'echo':
            return redis.echo(value as string)
          case 'get':
            return redis.get('counter')
          case 'publish':
            return redis.publish(CHANNEL, value as string)
          case 'pushShift':
            return redis.multi().rpush('list', JSON.stringify(value)).lpop('list').exec()
        }
      },
      async subscribe(onCount) {
        let count = 0
        redis.on('message', (_channel: string, message: string) => onCount(++count, message))
        await redis.subscribe(CHANNEL)
      },
      async close() {
        redis.disconnect()
      },
    }
    return driver
  },
  async firstSnapshot(address) {
    const redis = await open(redisPath(address))
    JSON.parse((await redis.get('state')) ?? 'null')
    return async () => redis.disconnect()
  },
}
