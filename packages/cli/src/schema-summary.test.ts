import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { MAX_SUMMARY_LENGTH, summarizeSchema } from './schema-summary.js'

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' })

describe('summarizeSchema', () => {
  it.each([
    [z.string().min(1).max(500), 'string, 1 to 500 characters'],
    [z.number().int().min(-5).max(5).optional(), 'integer, -5 to 5'],
    [z.number().int(), 'integer'],
    [z.boolean(), 'boolean'],
    [z.enum(['low', 'high']), '"low" | "high"'],
    [z.literal('on'), '"on"'],
    [z.union([z.string(), z.number()]), 'string | number'],
    [z.array(z.string().email()), '(string, email, matching /…/)[]'],
    [z.object({ id: z.string(), 'a b': z.number().optional() }), '{ id: string, "a b"?: number }'],
    [z.record(z.string(), z.number()), '{ [key: string]: number }'],
    [z.object({ a: z.object({ b: z.object({ c: z.object({ d: z.string() }) }) }) }), '{ a: { b: { c: {…} } } }'],
  ])('summarizes %#', (schema, expected) => {
    const summary = summarizeSchema(jsonSchema(schema))
    if (expected.includes('/…/')) expect(summary).toMatch(/^\(string, email, matching \/.+\/\)\[\]$/)
    else expect(summary).toBe(expected)
  })

  it('says any for what is no schema, and cuts a long summary', () => {
    expect(summarizeSchema(null)).toBe('any')
    expect(summarizeSchema({})).toBe('any')
    const many = summarizeSchema({ enum: Array.from({ length: 500 }, (_, i) => `value-${i}`) })
    expect(many).toHaveLength(MAX_SUMMARY_LENGTH)
    expect(many.endsWith('…')).toBe(true)
  })
})
