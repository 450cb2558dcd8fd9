// What the inspector's test reads off the page, by the ids and data attributes the page sets.
// Locators only: they wait for their element, and these files know no DOM types.
import type { Page } from 'playwright-core'

const exactly = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)

/** Resolves once the state tree shows `text` as the value at the dotted `path`. */
export async function waitForTreeValue(page: Page, path: string, text: string): Promise<void> {
  await page.locator(`#state-tree .leaf[data-path="${path}"] .value`, { hasText: exactly(text) }).waitFor()
}

/** Fills the call form with `action` and `input` (JSON text) and submits it. */
export async function submitCall(page: Page, action: string, input: string): Promise<void> {
  await page.fill('#call-action', action)
  await page.fill('#call-input', input)
  await page.click('#call-submit')
}

/** The text of the call's outcome, once one of `outcome` shows that contains `expected`. */
export async function waitForCallResult(page: Page, outcome: 'ok' | 'error', expected: string): Promise<string> {
  const result = page.locator(`#call-result[data-outcome="${outcome}"]`, { hasText: expected })
  await result.waitFor()
  return (await result.textContent()) ?? ''
}

/** The log's rows, newest first: each as its cells' text. */
export async function logRows(page: Page): Promise<string[][]> {
  const rows = await page.locator('#change-log tbody tr').all()
  return Promise.all(rows.map((row) => row.locator('td').allTextContents()))
}

/** The versions of the log's rows the filter shows, newest first. */
export async function shownVersions(page: Page): Promise<string[]> {
  const rows = await page.locator('#change-log tbody tr:not([hidden])').all()
  return (await Promise.all(rows.map((row) => row.getAttribute('data-version')))).map((version) => version ?? '')
}

/** Resolves once the call form offers `action` in its list of actions. */
export async function waitForOfferedAction(page: Page, action: string): Promise<void> {
  await page.locator('#known-actions option', { hasText: exactly(action) }).waitFor({ state: 'attached' })
}
