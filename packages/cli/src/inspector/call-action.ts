// The inspector page's action calls: the request checked, the call made, and the reply.
import { isIpcStateError } from '@ipc-state/client'
import type { AnyClient } from '../open-client.js'
import { type InputIssue, inputIssues } from '../report-error.js'

/** What the page asks for: an action, and its input unless it has none. */
export interface CallRequest {
  action: string
  input?: unknown
}

/** What the page is answered: the action's result, or its error with the issues of its input. */
export type CallReply =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string; issues: InputIssue[]; more: number } }

// As long as the server takes an action name to be.
const MAX_ACTION_LENGTH = 256

/** Whether `value`, parsed from a request's body, is a {@link CallRequest}; else what is wrong with it. */
export function checkCallRequest(value: unknown): { ok: true; request: CallRequest } | { ok: false; message: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'send an object: { "action": "name", "input": … }' }
  }
  const { action } = value as { action?: unknown }
  if (typeof action !== 'string' || action === '' || action.length > MAX_ACTION_LENGTH) {
    return { ok: false, message: `"action" must be a name of 1 to ${MAX_ACTION_LENGTH} characters` }
  }
  const request: CallRequest = { action }
  if (Object.hasOwn(value, 'input')) request.input = (value as { input: unknown }).input
  return { ok: true, request }
}

/**
 * Calls the action through `client`, as `ipc-state call` does, and describes the outcome: any
 * error is the reply's, never thrown.
 */
export async function callAction(client: AnyClient, request: CallRequest): Promise<CallReply> {
  try {
    const result = await client.call(request.action, request.input)
    return { ok: true, result: result ?? null }
  } catch (error) {
    if (isIpcStateError(error)) {
      const { issues, more } = inputIssues(error.data)
      return { ok: false, error: { code: error.code, message: error.message, issues, more } }
    }
    return {
      ok: false,
      error: { code: 'FAILED', message: error instanceof Error ? error.message : String(error), issues: [], more: 0 },
    }
  }
}
