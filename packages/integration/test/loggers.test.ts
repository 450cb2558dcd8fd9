// The logger adapters with the loggers they adapt: a real pino writing JSON lines and Node's own
// Console, each capturing what a real server and client log.
import { Console } from 'node:console'
import { Writable } from 'node:stream'
import { connect, consoleLogger as clientConsoleLogger, pinoLogger as clientPinoLogger } from '@ipc-state/client'
import { consoleLogger, createServer, type Logger, pinoLogger } from '@ipc-state/server'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { fixtureAddress } from '../src/processes/fixture-env.js'
import { tempSocketRoot } from '../src/processes/processes.js'
import { type TestStore, testStore } from '../src/stores/test-store.js'

/** A pino logger at `debug` writing to memory, and the JSON lines it wrote so far. */
function capturedPino() {
  const written: string[] = []
  const log = pino({ level: 'debug', base: undefined, timestamp: false }, { write: (line: string) => written.push(line) })
  const lines = (): Record<string, unknown>[] =>
    written.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((line) => JSON.parse(line))
  return { log, lines }
}

describe('pinoLogger with pino', () => {
  it("a server logs 'listening' and 'closed' with their fields as JSON properties", async () => {
    await using dir = await tempSocketRoot()
    const { log, lines } = capturedPino()
    const server = await createServer({ store: testStore, ...fixtureAddress(dir), logger: pinoLogger(log) })
    const { path, epoch } = server
    await server.close()
    expect(lines()).toContainEqual({ level: 30, msg: 'listening', path, epoch })
    expect(lines()).toContainEqual({ level: 30, msg: 'closed', path })
  })

  it("a client logs its status changes at debug, through a pino child's bindings too", async () => {
    await using dir = await tempSocketRoot()
    const { log, lines } = capturedPino()
    await using server = await createServer({ store: testStore, ...fixtureAddress(dir) })
    const client = await connect<TestStore>({ ...fixtureAddress(dir), logger: clientPinoLogger(log.child({ part: 'client' })) })
    await client.close()
    expect(lines()).toContainEqual({ level: 20, part: 'client', msg: 'status', status: 'connected', path: server.path })
    expect(lines()).toContainEqual({ level: 20, part: 'client', msg: 'status', status: 'closed', path: server.path })
  })

  it('keeps a message with % in it as it is, and follows changes to the pino level', () => {
    const { log, lines } = capturedPino()
    const logger = pinoLogger(log)
    logger.warn!('100% of %s used', { dir: '/tmp/a' })
    log.level = 'warn'
    logger.info!('dropped by pino', { n: 1 })
    logger.error!('kept', { n: 2 })
    expect(lines()).toEqual([
      { level: 40, msg: '100% of %s used', dir: '/tmp/a' },
      { level: 50, msg: 'kept', n: 2 },
    ])
  })

  it('is needed: pino type-checks as a Logger as it is, but drops the details', () => {
    const { log, lines } = capturedPino()
    const unwrapped: Logger = log
    unwrapped.info!('listening', { path: '/tmp/a', epoch: 'e' })
    expect(lines()).toEqual([{ level: 30, msg: 'listening' }])
  })
})

describe("consoleLogger with Node's Console", () => {
  it("a server prints 'listening' with its fields as one JSON object, and nothing below info", async () => {
    await using dir = await tempSocketRoot()
    let out = ''
    const stream = new Writable({
      write(chunk, _encoding, done) {
        out += String(chunk)
        done()
      },
    })
    const console = new Console({ stdout: stream, stderr: stream })
    const server = await createServer({ store: testStore, ...fixtureAddress(dir), logger: consoleLogger(console) })
    await using client = await connect<TestStore>({ ...fixtureAddress(dir), logger: clientConsoleLogger(console) })
    expect(await client.actions.increment(1)).toBe(1)
    await server.close()
    const printed = out.split('\n').filter(Boolean)
    expect(printed[0]).toBe(`listening ${JSON.stringify({ path: server.path, epoch: server.epoch })}`)
    expect(printed).toContain(`closed ${JSON.stringify({ path: server.path })}`)
    expect(printed.filter((line) => line.startsWith('status '))).toEqual([])
  })
})
