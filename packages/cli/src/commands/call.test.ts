import { describe, expect, it } from 'vitest'
import { CliError, ExitCode } from '../exit-codes.js'
import { parseInput } from './call.js'

describe('parseInput', () => {
  it('reads JSON, and nothing as no input', () => {
    expect(parseInput(undefined)).toBeUndefined()
    expect(parseInput('5')).toBe(5)
    expect(parseInput('"x"')).toBe('x')
    expect(parseInput('{"a":[1]}')).toEqual({ a: [1] })
  })

  it('refuses a bare word as a usage error that shows it quoted', () => {
    const error = (() => {
      try {
        parseInput('hello')
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(CliError)
    expect(error).toMatchObject({ exitCode: ExitCode.USAGE, message: expect.stringContaining(`'"hello"'`) })
  })
})
