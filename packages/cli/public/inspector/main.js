// Wires the page to the inspector's event stream: the state tree, the log of changes, the
// clients, the connection status; and the call form.
import { createCallForm } from './call-form.js'
import { createChangeLog } from './change-log.js'
import { createClientList } from './clients.js'
import { el } from './dom.js'
import { createTree } from './tree.js'

const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

const tree = createTree(byId('state-tree'))
const knownActions = new Set()
/** Offers `name` in the call form's list of actions. */
const knowAction = (name) => {
  if (knownActions.has(name)) return
  knownActions.add(name)
  byId('known-actions').append(el('option', { text: name }))
}
const log = createChangeLog({
  body: /** @type {HTMLElement} */ (byId('change-log').querySelector('tbody')),
  pause: /** @type {HTMLButtonElement} */ (byId('log-pause')),
  pending: byId('log-pending'),
  filter: /** @type {HTMLInputElement} */ (byId('log-filter')),
  shown: byId('log-shown'),
  onAction: knowAction,
})
const clients = createClientList({
  body: /** @type {HTMLElement} */ (byId('clients').querySelector('tbody')),
  count: byId('client-count'),
  summary: byId('server-summary'),
})
createCallForm({
  form: /** @type {HTMLFormElement} */ (byId('call-form')),
  action: /** @type {HTMLInputElement} */ (byId('call-action')),
  input: /** @type {HTMLTextAreaElement} */ (byId('call-input')),
  submit: /** @type {HTMLButtonElement} */ (byId('call-submit')),
  result: byId('call-result'),
})

const status = byId('status')
const showStatus = (text) => {
  status.textContent = text
  status.dataset.status = text
}
let self = ''
let pendingState
const drawState = () => {
  const { state, version, epoch } = pendingState
  pendingState = undefined
  tree.render(state)
  byId('version').textContent = `version ${version}, epoch ${epoch.slice(0, 8)}`
  document.body.dataset.version = String(version)
}

/** Each event's data is JSON; a handler's failure is logged and the stream goes on. */
const on = (source, name, handler) =>
  source.addEventListener(name, (event) => {
    try {
      handler(JSON.parse(event.data))
    } catch (error) {
      console.error(`inspector: could not show a ${name} event`, error)
    }
  })

const events = new EventSource('events')
on(events, 'status', (data) => {
  self = data.clientId
  byId('server-path').textContent = data.path
  showStatus(data.status === 'connected' ? 'live' : data.status)
})
on(events, 'history', (entries) => log.reset(entries))
on(events, 'change', (entry) => log.add(entry))
on(events, 'state', (data) => {
  // Many states in one frame are drawn once, the newest.
  const scheduled = pendingState !== undefined
  pendingState = data
  if (!scheduled) requestAnimationFrame(drawState)
})
on(events, 'info', (data) => {
  clients.render(data, self)
  // The store's actions, from a server that lists them: the form offers them before any is called.
  for (const action of data.info?.actions ?? []) if (typeof action.name === 'string') knowAction(action.name)
})
events.addEventListener('error', () => showStatus(events.readyState === EventSource.CLOSED ? 'stopped' : 'inspector unreachable'))
