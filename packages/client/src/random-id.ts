// A random UUID wherever the client runs: `crypto.randomUUID` exists only in a page's secure contexts (https, localhost).

/**
 * A version 4 UUID: `crypto.randomUUID()` where there is one, else the same from
 * `crypto.getRandomValues`, which a page served over plain http has too.
 */
export function randomId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
