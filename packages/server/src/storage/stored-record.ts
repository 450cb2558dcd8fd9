// Reading back a stored record of answered calls: checked field by field, answer frames that earlier versions kept turned into values.
import type { PresenceMark, PresentInstance, StoredAnswer, StoredInstance } from './storage.js'

/** A version, a call id or a count: a safe integer, 0 or more. */
export const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0

/**
 * The record of answered calls in `value` (parsed JSON, as a storage kept {@link StoredInstance}s),
 * or `undefined` when it is not one: every instance and answer checked, so a storage refuses what
 * it did not write instead of serving it. Answers kept as the frame that was sent (`{ id, frame }`,
 * as stores written before answers were kept as values hold them) are read as values.
 */
export function readStoredInstances(value: unknown): StoredInstance[] | undefined {
  if (!Array.isArray(value)) return undefined
  const instances: StoredInstance[] = []
  for (const item of value) {
    const instance = item as StoredInstance
    if (
      typeof instance !== 'object' ||
      instance === null ||
      typeof instance.instanceId !== 'string' ||
      !Number.isSafeInteger(instance.since) ||
      !Number.isSafeInteger(instance.forgotten) ||
      !Array.isArray(instance.answers)
    ) {
      return undefined
    }
    const answers: StoredAnswer[] = []
    for (const answer of instance.answers as unknown[]) {
      const read = readAnswer(answer)
      if (read === undefined) return undefined
      answers.push(read)
    }
    instances.push({ instanceId: instance.instanceId, since: instance.since, forgotten: instance.forgotten, answers })
  }
  return instances
}

/** One stored answer: a value (`{ id, version, valueJson? }`) or the frame an earlier version kept. */
function readAnswer(value: unknown): StoredAnswer | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { id, version, valueJson, frame } = value as { id?: unknown; version?: unknown; valueJson?: unknown; frame?: unknown }
  if (!isCount(id)) return undefined
  if (typeof frame === 'string') return answerOfFrame(id, frame)
  if (!isCount(version) || (valueJson !== undefined && typeof valueJson !== 'string')) return undefined
  return valueJson === undefined ? { id, version } : { id, version, valueJson }
}

/** The value and version in an answer frame (`{"type":…,"data":{"id","result":{"value"?,"version"}}}`). */
function answerOfFrame(id: number, frame: string): StoredAnswer | undefined {
  let message: { data?: { id?: unknown; result?: { value?: unknown; version?: unknown } } }
  try {
    // The frame ends with its delimiter, a form feed, which JSON does not take as space.
    message = JSON.parse(frame.endsWith('\f') ? frame.slice(0, -1) : frame) as typeof message
  } catch {
    return undefined
  }
  const result = message?.data?.result
  if (message?.data?.id !== id || typeof result !== 'object' || result === null || !isCount(result.version)) return undefined
  return Object.hasOwn(result, 'value')
    ? { id, version: result.version, valueJson: JSON.stringify(result.value) }
    : { id, version: result.version }
}

/** Whether `value` is a present instance as a storage keeps it (see {@link PresentInstance}). */
function isPresent(value: unknown): value is PresentInstance {
  if (typeof value !== 'object' || value === null) return false
  const { instanceId, clientId, server } = value as Record<string, unknown>
  return typeof instanceId === 'string' && typeof clientId === 'string' && (server === undefined || typeof server === 'string')
}

/** The present instances of a stored snapshot, copied field by field; `undefined` when `value` holds anything else. */
export function readPresent(value: unknown): PresentInstance[] | undefined {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every(isPresent)) return undefined
  return value.map(({ instanceId, clientId, server }) =>
    server === undefined ? { instanceId, clientId } : { instanceId, clientId, server },
  )
}

/** The presence mark `json` holds, or `undefined` when it holds anything else. */
export function readPresenceMark(json: string): PresenceMark | undefined {
  let mark: unknown
  try {
    mark = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof mark !== 'object' || mark === null) return undefined
  const { joined, left } = mark as Record<string, unknown>
  if (joined !== undefined && left === undefined && isPresent(joined)) return { joined: readPresent([joined])![0]! }
  if (left !== undefined && joined === undefined && typeof left === 'string') return { left }
  return undefined
}
