// The state as a tree of <details>: drawn again for each new state, keeping which branches the
// person opened or closed, and marking the leaves whose value changed.
import { el, preview } from './dom.js'

// Children drawn per branch: a huge list stays usable, and the rest is counted.
const MAX_CHILDREN = 500
// Branches open on their own down to this depth.
const OPEN_DEPTH = 3

/**
 * A tree view of a JSON value in `container`.
 * @param {HTMLElement} container
 * @returns {{ render: (state: unknown) => void }}
 */
export function createTree(container) {
  /** @type {Map<string, boolean>} what the person chose, by path */
  const chosen = new Map()
  /** @type {Map<string, string>} each leaf's drawn value, by path, to mark what changed */
  let leaves = new Map()
  let first = true

  /**
   * @param {string} key
   * @param {unknown} value
   * @param {(string | number)[]} path
   * @param {Map<string, string>} drawn
   */
  const node = (key, value, path, drawn) => {
    const id = path.join('.')
    const data = { path: id }
    if (typeof value !== 'object' || value === null) {
      const text = preview(value, 2000)
      drawn.set(id, text)
      const changed = !first && leaves.has(id) && leaves.get(id) !== text
      return el('div', { className: changed ? 'leaf changed' : 'leaf', data }, [
        el('span', { className: 'key', text: key }),
        el('span', { className: `value type-${value === null ? 'null' : typeof value}`, text }),
      ])
    }
    const entries = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value)
    const open = chosen.get(id) ?? path.length < OPEN_DEPTH
    const details = el('details', { className: 'branch', data }, [
      el('summary', {}, [
        el('span', { className: 'key', text: key }),
        el('span', { className: 'meta', text: Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}` }),
      ]),
    ])
    details.open = open
    // A closed branch is filled when it opens: a big state costs only what is shown.
    const fill = () => {
      const list = el('div', { className: 'children' })
      for (const [childKey, child] of entries.slice(0, MAX_CHILDREN)) {
        list.append(node(String(childKey), child, [...path, childKey], drawn))
      }
      if (entries.length > MAX_CHILDREN)
        list.append(el('div', { className: 'muted', text: `… ${entries.length - MAX_CHILDREN} more` }))
      details.append(list)
    }
    if (open) fill()
    details.addEventListener('toggle', () => {
      chosen.set(id, details.open)
      if (details.open && details.childElementCount === 1) fill()
    })
    return details
  }

  return {
    render(state) {
      const drawn = new Map()
      const root = node('state', state, [], drawn)
      container.replaceChildren(root)
      leaves = drawn
      first = false
    },
  }
}
