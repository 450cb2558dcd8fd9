// Builds elements with text set through textContent only: the state may hold any string, and
// none of it is ever parsed as HTML.

/**
 * A new element.
 * @param {string} tag
 * @param {{ className?: string, text?: string, title?: string, data?: Record<string, string> }} [props]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag)
  if (props.className) node.className = props.className
  if (props.text !== undefined) node.textContent = props.text
  if (props.title !== undefined) node.title = props.title
  for (const [key, value] of Object.entries(props.data ?? {})) node.dataset[key] = value
  for (const child of children) node.append(child)
  return node
}

/**
 * `value` as compact JSON, cut to `max` characters with an ellipsis.
 * @param {unknown} value
 * @param {number} [max]
 */
export function preview(value, max = 160) {
  const text = value === undefined ? 'undefined' : JSON.stringify(value)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/**
 * A time in this browser's time zone, from an ISO date: its time of day with milliseconds, and its
 * date before it when that is not today; the title says it in full, in the browser's own words.
 * @param {string} iso
 * @param {Date} [now]
 * @returns {{ text: string, title: string }}
 */
export function localTime(iso, now = new Date()) {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return { text: iso, title: iso }
  const pad = (n, width = 2) => String(n).padStart(width, '0')
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
  const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
  return { text: day === today ? time : `${day} ${time}`, title: date.toLocaleString() }
}
