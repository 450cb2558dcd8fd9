import { describe, it, expect, expectTypeOf, vi } from 'vitest'
import { consoleLogger, pinoLogger, type ConsoleLike, type Logger, type LogLevel, type PinoLikeLogger } from './logger.js'
import type { Logger as PublicLogger } from './index.js'

describe('Logger', () => {
  it('has every method optional, so an empty object is a silent logger', () => {
    // biome-ignore lint/complexity/noBannedTypes: the empty object type is exactly what is being checked
    expectTypeOf<{}>().toExtend<Logger>()
    expectTypeOf<{ warn(message: string): void }>().toExtend<Logger>()
  })

  it('fits the usual (message, details) loggers, and loggers taking any arguments', () => {
    const lines: string[] = []
    const logger: Logger = {
      debug: (...args: unknown[]) => lines.push(`debug ${args.map(String).join(' ')}`),
      info: (message) => lines.push(`info ${message}`),
      warn: (message, details) => lines.push(`warn ${message} ${JSON.stringify(details)}`),
    }
    logger.debug?.('a', { n: 1 })
    logger.info?.('b')
    logger.warn?.('c', { d: 2 })
    logger.error?.('never called')
    expect(lines).toEqual(['debug a [object Object]', 'info b', 'warn c {"d":2}'])
  })

  it('refuses methods whose first parameter is not a string', () => {
    expectTypeOf<{ info(code: number): void }>().not.toExtend<Logger>()
    expectTypeOf<{ error: string }>().not.toExtend<Logger>()
  })

  it('is exported from the entry point', () => {
    expectTypeOf<PublicLogger>().toEqualTypeOf<Logger>()
  })
})

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error']

/** A pino stand-in that records each call as pino receives it. */
function recordingPino(): PinoLikeLogger & { calls: [LogLevel, ...unknown[]][] } {
  const calls: [LogLevel, ...unknown[]][] = []
  const method =
    (level: LogLevel) =>
    (...args: unknown[]) =>
      calls.push([level, ...args])
  return { calls, debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') }
}

/** A console stand-in that records each line by level. */
function recordingConsole(): ConsoleLike & { lines: [LogLevel, ...unknown[]][] } {
  const lines: [LogLevel, ...unknown[]][] = []
  const method =
    (level: LogLevel) =>
    (...args: unknown[]) =>
      lines.push([level, ...args])
  return { lines, debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') }
}

describe('pinoLogger', () => {
  it('hands pino the details as its merging object and the message as its msg, at each level', () => {
    const pino = recordingPino()
    const logger = pinoLogger(pino)
    for (const level of LEVELS) logger[level]!(`${level} line`, { level, n: 1 })
    expect(pino.calls).toEqual(LEVELS.map((level) => [level, { level, n: 1 }, `${level} line`]))
  })

  it('passes an empty merging object when there are no details, so the message is never read as one', () => {
    const pino = recordingPino()
    pinoLogger(pino).info!('closed')
    expect(pino.calls).toEqual([['info', {}, 'closed']])
  })

  it('passes the details as they are, without copying or changing them', () => {
    const pino = recordingPino()
    const details = { path: '/tmp/a', epoch: 'e' }
    pinoLogger(pino).warn!('w', details)
    expect(pino.calls[0]![1]).toBe(details)
    expect(details).toEqual({ path: '/tmp/a', epoch: 'e' })
  })

  it('calls pino as a method, and finds the method anew each time, as pino swaps them when its level changes', () => {
    const seen: unknown[] = []
    class Swapping {
      name = 'mine'
      debug(): void {}
      info(this: Swapping, _details: object, message: string): void {
        seen.push(`${this.name}: ${message}`)
      }
      warn(): void {}
      error(): void {}
    }
    const pino = new Swapping()
    const logger = pinoLogger(pino)
    logger.info!('first')
    pino.info = () => seen.push('replaced')
    logger.info!('second')
    expect(seen).toEqual(['mine: first', 'replaced'])
  })

  it('throws a TypeError naming the method a logger lacks', () => {
    const { error: _, ...partial } = recordingPino()
    expect(() => pinoLogger(partial as unknown as PinoLikeLogger)).toThrow(
      new TypeError('pinoLogger: pino.error must be a function'),
    )
    expect(() => pinoLogger(undefined as unknown as PinoLikeLogger)).toThrow(TypeError)
  })

  it("takes pino's overloaded methods, and gives a Logger with all four levels", () => {
    interface LogFn {
      <T extends object>(obj: T, msg?: string, ...args: unknown[]): void
      (obj: unknown, msg?: string, ...args: unknown[]): void
      (msg: string, ...args: unknown[]): void
    }
    expectTypeOf<{ debug: LogFn; info: LogFn; warn: LogFn; error: LogFn; level: string }>().toExtend<PinoLikeLogger>()
    expectTypeOf<{ info(message: string, details?: object): void }>().not.toExtend<PinoLikeLogger>()
    expectTypeOf(pinoLogger).returns.toEqualTypeOf<Logger>()
  })
})

describe('consoleLogger', () => {
  it('prints from info up by default, each level through its own console method', () => {
    const console = recordingConsole()
    const logger = consoleLogger(console)
    expect(logger.debug).toBeUndefined()
    for (const level of LEVELS) logger[level]?.(`${level} line`)
    expect(console.lines).toEqual([
      ['info', 'info line'],
      ['warn', 'warn line'],
      ['error', 'error line'],
    ])
  })

  it('prints from the level given up, and leaves out the methods below it', () => {
    for (const [index, level] of LEVELS.entries()) {
      const logger = consoleLogger(recordingConsole(), { level })
      expect(Object.keys(logger).sort(), level).toEqual(LEVELS.slice(index).sort())
    }
    const console = recordingConsole()
    consoleLogger(console, { level: 'debug' }).debug!('status', { status: 'connected' })
    expect(console.lines).toEqual([['debug', 'status {"status":"connected"}']])
  })

  it('prints the message, then the details as one JSON object, in one argument', () => {
    const console = recordingConsole()
    const logger = consoleLogger(console)
    logger.info!('listening', { path: '/tmp/ipc/app.server', epoch: 'abc' })
    logger.warn!('no details')
    logger.warn!('empty details', {})
    logger.warn!('only undefined', { reason: undefined })
    logger.error!('nested', { error: { code: 'X', data: [1, null, 'two'] } })
    expect(console.lines).toEqual([
      ['info', 'listening {"path":"/tmp/ipc/app.server","epoch":"abc"}'],
      ['warn', 'no details'],
      ['warn', 'empty details'],
      ['warn', 'only undefined'],
      ['error', 'nested {"error":{"code":"X","data":[1,null,"two"]}}'],
    ])
  })

  it('prints what JSON refuses instead of throwing: BigInts, cycles, errors', () => {
    const console = recordingConsole()
    const logger = consoleLogger(console)
    const cycle: Record<string, unknown> = { name: 'a' }
    cycle.self = cycle
    cycle.list = [cycle, { back: cycle }]
    const failure = Object.assign(new Error('disk full', { cause: new RangeError('quota') }), { code: 'ENOSPC' })
    expect(() => logger.info!('big', { version: 2n ** 64n, nested: { n: -1n } })).not.toThrow()
    expect(() => logger.info!('cycle', { cycle })).not.toThrow()
    expect(() => logger.info!('error', { error: failure })).not.toThrow()
    expect(console.lines).toEqual([
      ['info', 'big {"version":"18446744073709551616","nested":{"n":"-1"}}'],
      ['info', 'cycle {"cycle":{"name":"a","self":"[Circular]","list":["[Circular]",{"back":"[Circular]"}]}}'],
      [
        'info',
        'error {"error":{"name":"Error","message":"disk full","cause":{"name":"RangeError","message":"quota"},"code":"ENOSPC"}}',
      ],
    ])
  })

  it('prints an object met twice side by side both times: only a true cycle is cut', () => {
    const console = recordingConsole()
    const shared = { id: 1 }
    consoleLogger(console).info!('shared', { a: shared, b: [shared, shared] })
    expect(console.lines).toEqual([['info', 'shared {"a":{"id":1},"b":[{"id":1},{"id":1}]}']])
  })

  it('never throws from a log call, whatever the details or the console do', () => {
    const console = recordingConsole()
    const logger = consoleLogger(console)
    const hostile = {
      get field(): never {
        throw new Error('getter')
      },
    }
    const badJson = {
      toJSON: (): never => {
        throw new Error('toJSON')
      },
    }
    let deep: Record<string, unknown> = {}
    for (let i = 0; i < 100_000; i++) deep = { deep }
    expect(() => logger.info!('getter', hostile)).not.toThrow()
    expect(() => logger.info!('toJSON', { badJson })).not.toThrow()
    expect(() => logger.info!('deep', deep)).not.toThrow()
    expect(() => logger.info!('a symbol and a function', { s: Symbol('s'), f: () => 1 })).not.toThrow()
    expect(console.lines).toEqual([
      ['info', 'getter "[details could not be printed]"'],
      ['info', 'toJSON "[details could not be printed]"'],
      ['info', 'deep "[details could not be printed]"'],
      ['info', 'a symbol and a function'],
    ])

    const throwing = {
      ...recordingConsole(),
      warn: () => {
        throw new Error('EPIPE')
      },
    }
    expect(() => consoleLogger(throwing).warn!('w', { a: 1 })).not.toThrow()
  })

  it('writes to globalThis.console when given no console', () => {
    const globalConsole = (globalThis as unknown as { console: ConsoleLike }).console
    const warn = vi.spyOn(globalConsole, 'warn').mockImplementation(() => {})
    try {
      consoleLogger().warn!('careful', { n: 1 })
      expect(warn).toHaveBeenCalledWith('careful {"n":1}')
    } finally {
      warn.mockRestore()
    }
  })

  it('throws a TypeError naming a bad level, or the console method a printed level lacks', () => {
    expect(() => consoleLogger(recordingConsole(), { level: 'trace' as LogLevel })).toThrow(
      new TypeError('consoleLogger: level must be one of debug, info, warn, error, not trace'),
    )
    const { debug: _, ...noDebug } = recordingConsole()
    expect(() => consoleLogger(noDebug as unknown as ConsoleLike, { level: 'debug' })).toThrow(
      new TypeError('consoleLogger: console.debug must be a function'),
    )
    expect(consoleLogger(noDebug as unknown as ConsoleLike).info).toBeTypeOf('function')
  })

  it("takes Node's console as it is typed", () => {
    interface NodeConsoleMethods {
      debug(message?: any, ...optionalParams: any[]): void
      info(message?: any, ...optionalParams: any[]): void
      warn(message?: any, ...optionalParams: any[]): void
      error(message?: any, ...optionalParams: any[]): void
    }
    expectTypeOf<NodeConsoleMethods>().toExtend<ConsoleLike>()
  })
})
