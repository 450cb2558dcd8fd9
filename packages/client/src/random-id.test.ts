import { afterEach, describe, expect, it, vi } from 'vitest'
import { randomId } from './random-id.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('randomId', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('is a version 4 UUID, from crypto.randomUUID where there is one', () => {
    expect(randomId()).toMatch(UUID_V4)
  })

  it('is a fresh version 4 UUID where crypto.randomUUID is missing, as on a page served over plain http', () => {
    const { getRandomValues } = crypto
    vi.stubGlobal('crypto', { getRandomValues: getRandomValues.bind(crypto) })
    const ids = new Set(Array.from({ length: 100 }, () => randomId()))
    expect(ids.size).toBe(100)
    for (const id of ids) expect(id).toMatch(UUID_V4)
  })
})
