import { describe, it, expect, expectTypeOf } from 'vitest'
import type { Logger } from './logger.js'
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
