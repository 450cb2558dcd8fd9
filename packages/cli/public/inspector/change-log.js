// The log of changes, newest first: version, time, action, client and patches. Paused, it holds
// new entries back (and says how many) until resumed; a filter shows only the rows whose action,
// client or text holds every word typed.
import { el, localTime, preview } from './dom.js'

const MAX_ROWS = 300

/**
 * @typedef {{ version: number, epoch: string, time: string, reason: string, action?: string,
 *   clientId?: string, patches: { op: string, path: (string | number)[], value?: unknown }[], more: number,
 *   patchesOmitted?: boolean }} ChangeEntry
 */

/**
 * @param {{ body: HTMLElement, pause: HTMLButtonElement, pending: HTMLElement, filter: HTMLInputElement,
 *   shown: HTMLElement, onAction: (name: string) => void }} parts
 */
export function createChangeLog({ body, pause, pending, filter, shown, onAction }) {
  let paused = false
  /** @type {ChangeEntry[]} */
  let held = []
  /** The filter's words, lower-cased: a row shows when its text holds each of them. */
  let words = []
  /** What each row is matched on, lower-cased. @type {WeakMap<Element, string>} */
  const searchText = new WeakMap()

  const showPending = () => {
    pending.textContent = paused ? `paused, ${held.length} new` : ''
  }

  /** @param {HTMLElement} row */
  const applyFilter = (row) => {
    const text = searchText.get(row) ?? ''
    row.hidden = !words.every((word) => text.includes(word))
  }
  const showCount = () => {
    if (words.length === 0) {
      shown.textContent = ''
      return
    }
    const rows = [...body.children]
    shown.textContent = `${rows.filter((row) => !(/** @type {HTMLElement} */ (row).hidden)).length} of ${rows.length}`
  }

  /** @param {ChangeEntry} entry */
  const row = (entry) => {
    const by = entry.reason === 'change' ? (entry.action ?? '') : `(${entry.reason})`
    const patches = el(
      'td',
      { className: 'patches' },
      entry.patches.map((patch) => el('div', { text: patchLine(patch), title: preview(patch.value, 4000) })),
    )
    if (entry.more > 0) patches.append(el('div', { className: 'muted', text: `… ${entry.more} more` }))
    if (entry.patchesOmitted) patches.append(el('div', { className: 'muted', text: 'too large for the server to keep' }))
    const time = localTime(entry.time)
    const row = el('tr', { data: { version: String(entry.version) } }, [
      el('td', { className: 'num', text: String(entry.version) }),
      el('td', { className: 'time', text: time.text, title: time.title }),
      el('td', { className: 'action', text: by }),
      el('td', { className: 'client', text: entry.clientId ?? '' }),
      patches,
    ])
    searchText.set(row, [entry.version, by, entry.clientId ?? '', patches.textContent].join(' ').toLowerCase())
    applyFilter(row)
    return row
  }

  /** @param {ChangeEntry[]} entries oldest first */
  const show = (entries) => {
    for (const entry of entries) {
      if (entry.action) onAction(entry.action)
      body.prepend(row(entry))
    }
    while (body.childElementCount > MAX_ROWS) body.lastElementChild?.remove()
    showCount()
  }

  filter.addEventListener('input', () => {
    words = filter.value
      .toLowerCase()
      .split(/\s+/)
      .filter((word) => word !== '')
    for (const row of body.children) applyFilter(/** @type {HTMLElement} */ (row))
    showCount()
  })

  pause.addEventListener('click', () => {
    paused = !paused
    pause.textContent = paused ? 'Resume' : 'Pause'
    pause.setAttribute('aria-pressed', String(paused))
    if (!paused) {
      show(held)
      held = []
    }
    showPending()
  })

  return {
    /** @param {ChangeEntry} entry */
    add(entry) {
      if (paused) {
        held.push(entry)
        if (held.length > MAX_ROWS) held.shift()
      } else show([entry])
      showPending()
    },
    /** Starts again from the entries the inspector kept (when the page connects). @param {ChangeEntry[]} entries */
    reset(entries) {
      body.replaceChildren()
      held = []
      show(entries)
      showPending()
    },
  }
}

/** `replace /counter 3`, `add /messages/2 {"id":3,…}`, `remove /a`. */
function patchLine(patch) {
  const path = `/${patch.path.join('/')}`
  return patch.op === 'remove' ? `remove ${path}` : `${patch.op} ${path} ${preview(patch.value, 120)}`
}
