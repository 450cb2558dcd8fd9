// The page's script: the counter's live value through the browser client, and a button that calls increment.
import { connect, webSocketTransport } from '@ipc-state/client/browser'
import type { counterStore } from '../../counter/store.js'

const counter = document.getElementById('counter') as HTMLOutputElement
const status = document.getElementById('status') as HTMLSpanElement
const button = document.getElementById('increment') as HTMLButtonElement
const problem = document.getElementById('problem') as HTMLParagraphElement

function show(text: string): void {
  problem.textContent = text
  problem.hidden = false
}

// The token is in the address's fragment, which the browser never sends: no request, server log or
// Referer carries it. The client shows it to the server as a WebSocket subprotocol.
const token = new URLSearchParams(location.hash.slice(1)).get('token')
if (token === null) {
  show('Open the address the server printed, with its #token=…')
} else {
  try {
    const client = await connect<typeof counterStore>({ transport: webSocketTransport({ url: `ws://${location.host}/`, token }) })
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
    button.disabled = false
    button.addEventListener('click', () => {
      client.actions.increment(1).catch((error: Error) => show(`increment failed: ${error.message}`))
    })
  } catch (error) {
    show(`Could not connect: ${(error as Error).message}`)
  }
}
