import { describe, expect, it } from 'vitest'
import { createToken, tokenMatches } from './token.js'

describe('the inspector token', () => {
  it('is 43 URL-safe characters, new each time', () => {
    const token = createToken()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(createToken()).not.toBe(token)
  })

  it('matches only itself', () => {
    const token = createToken()
    expect(tokenMatches(token, token)).toBe(true)
    expect(tokenMatches(token, token.slice(1))).toBe(false)
    expect(tokenMatches(token, `${token}x`)).toBe(false)
    expect(tokenMatches(token, '')).toBe(false)
  })
})
