// The demo's page: the live counter and the latest messages through the browser client, and a button that calls increment.
import { connect, webSocketTransport } from '@ipc-state/client/browser'
import type { DemoStore } from '../src/store.js'

/** How many of the latest messages the page lists. */
const SHOWN_MESSAGES = 10

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
const counter = element<HTMLOutputElement>('counter')
const status = element<HTMLSpanElement>('status')
const list = element<HTMLUListElement>('messages')
const button = element<HTMLButtonElement>('increment')
const problem = element<HTMLParagraphElement>('problem')

function show(text: string): void {
  problem.textContent = text
  problem.hidden = false
}

// The token travels in the address's fragment, which the browser never sends: no request, log or
// Referer carries it.
const token = new URLSearchParams(location.hash.slice(1)).get('token')
if (token === null) {
  show('Open the address the server printed, with its #token=…')
} else {
  try {
    const client = await connect<DemoStore>({ transport: webSocketTransport({ url: `ws://${location.host}/`, token }) })
    const setStatus = (value: string) => {
      status.textContent = value
      document.body.dataset.status = value
    }
    setStatus(client.status)
    client.onStatusChange(setStatus)
    client.subscribe(
      (state) => state.counter,
      (value) => {
        counter.textContent = String(value)
      },
      { immediate: true },
    )
    client.subscribe(
      (state) => state.messages,
      (messages) => {
        // Other processes wrote these: set as text, never as markup.
        list.replaceChildren(
          ...messages.slice(-SHOWN_MESSAGES).map((message) => {
            const item = document.createElement('li')
            item.textContent = `#${message.id} ${message.text}`
            return item
          }),
        )
      },
      { immediate: true },
    )
    button.disabled = false
    button.addEventListener('click', () => {
      client.actions.increment(1).catch((error: Error) => show(`increment failed: ${error.message}`))
    })
  } catch (error) {
    show(`Could not connect: ${(error as Error).message}`)
  }
}
