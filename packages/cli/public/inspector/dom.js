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
 * A time of day with milliseconds, from an ISO date.
 * @param {string} iso
 */
export function timeOfDay(iso) {
  const date = new Date(iso)
  const pad = (n, width = 2) => String(n).padStart(width, '0')
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}
