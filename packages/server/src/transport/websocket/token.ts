// The secret a WebSocket client must show: made at random, compared in constant time (as the inspector's).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A fresh secret: 32 random bytes, URL-safe base64 (43 characters). */
export function createToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Whether `given` is `expected`, in time that does not depend on where they differ. Both are
 * hashed first, so their lengths leak nothing either.
 */
export function tokenMatches(expected: string, given: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(expected), digest(given))
}
