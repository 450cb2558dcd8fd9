import { describe, expect, it } from 'vitest'
import { describeInput, printable } from './actions.js'

describe('describeInput', () => {
  it('says what an action takes: any input, its schema in short, or why its schema is not shown', () => {
    expect(describeInput({ name: 'reset', hasInputSchema: false })).toBe('any input (no schema)')
    expect(describeInput({ name: 'add', hasInputSchema: true, inputSchema: { type: 'string', maxLength: 9 } })).toBe(
      'string, at most 9 characters',
    )
    expect(describeInput({ name: 'at', hasInputSchema: true, inputSchemaOmitted: 'unsupported' })).toBe(
      'checked by a schema that gives no JSON Schema',
    )
    expect(describeInput({ name: 'big', hasInputSchema: true, inputSchemaOmitted: 'too-large' })).toBe(
      'checked by a schema too large to list',
    )
  })
})

describe('printable', () => {
  it("escapes a server's control characters instead of handing them to the terminal", () => {
    expect(printable('ok\u001b[2Jname\n\u009b')).toBe('ok\\u001b[2Jname\\u000a\\u009b')
    expect(printable('increment')).toBe('increment')
  })
})
