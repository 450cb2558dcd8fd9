// The log of changes, newest first: version, time, action, client and patches. Paused, it holds
// new entries back (and says how many) until resumed.
import { el, preview, timeOfDay } from './dom.js'

const MAX_ROWS = 300

/**
 * @typedef {{ version: number, epoch: string, time: string, reason: string, action?: string,
 *   clientId?: string, patches: { op: string, path: (string | number)[], value?: unknown }[], more: number }} ChangeEntry
 */

/**
 * @param {{ body: HTMLElement, pause: HTMLButtonElement, pending: HTMLElement, onAction: (name: string) => void }} parts
 */
export function createChangeLog({ body, pause, pending, onAction }) {
  let paused = false
  /** @type {ChangeEntry[]} */
  let held = []

  const showPending = () => {
    pending.textContent = paused ? `paused, ${held.length} new` : ''
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
    return el('tr', { data: { version: String(entry.version) } }, [
      el('td', { className: 'num', text: String(entry.version) }),
      el('td', { className: 'time', text: timeOfDay(entry.time), title: entry.time }),
      el('td', { className: 'action', text: by }),
      el('td', { className: 'client', text: entry.clientId ?? '' }),
      patches,
    ])
  }

  /** @param {ChangeEntry[]} entries oldest first */
  const show = (entries) => {
    for (const entry of entries) {
      if (entry.action) onAction(entry.action)
      body.prepend(row(entry))
    }
    while (body.childElementCount > MAX_ROWS) body.lastElementChild?.remove()
  }

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
