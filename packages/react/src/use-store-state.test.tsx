// useStoreState with a real client of a real server joined in memory, rendered by React into happy-dom: renders are counted per component.
import { connect, type DeepReadonly } from '@ipc-state/client'
import { createServer, defineStore } from '@ipc-state/server'
import { memoryTransport } from '@ipc-state/server/testing'
import { act, cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { useStoreState, type StoreStateSource } from './use-store-state.js'

const store = defineStore({
  initialState: { counter: 0, messages: [] as string[] },
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    addMessage(state, text: string) {
      state.messages.push(text)
    },
  },
})

type State = DeepReadonly<typeof store.initialState>

/** A server and a client joined in memory: the client's replica is a real one, kept by the server's changes. */
async function served() {
  const memory = memoryTransport()
  const server = await createServer({ store, transport: memory.server })
  const client = await connect<typeof store>({ transport: memory.client })
  return {
    client,
    server,
    async [Symbol.asyncDispose]() {
      await client.close()
      await server.close()
    },
  }
}

const shallowEqual = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((key) => Object.is(a[key], b[key]))

/** Renders of each component, by name. */
let renders: Record<string, number> = {}
const rendered = (name: string) => {
  renders[name] = (renders[name] ?? 0) + 1
}

afterEach(() => {
  cleanup()
  renders = {}
})

function Counter({ client }: { client: StoreStateSource<State> }) {
  rendered('counter')
  const counter = useStoreState(client, (state) => state.counter)
  return <output data-testid="counter">{counter}</output>
}

function MessageCount({ client }: { client: StoreStateSource<State> }) {
  rendered('messages')
  const count = useStoreState(client, (state) => state.messages.length)
  return <output data-testid="messages">{count}</output>
}

/** Builds a new object on each selection: only a shallow comparison keeps it from re-rendering. */
function Summary({ client, isEqual }: { client: StoreStateSource<State>; isEqual?: typeof shallowEqual }) {
  const name = isEqual === undefined ? 'summary' : 'shallow summary'
  rendered(name)
  const summary = useStoreState(client, (state): Record<string, unknown> => ({ counter: state.counter }), isEqual)
  return <output data-testid={name}>{String(summary.counter)}</output>
}

describe('useStoreState', () => {
  it('re-renders a component only when its slice changes, with a real client of a real server', async () => {
    await using s = await served()
    const { client } = s
    render(
      <>
        <Counter client={client} />
        <MessageCount client={client} />
        <Summary client={client} isEqual={shallowEqual} />
      </>,
    )
    expect(renders).toEqual({ counter: 1, messages: 1, 'shallow summary': 1 })
    expect(screen.getByTestId('counter').textContent).toBe('0')

    await act(async () => {
      await client.actions.addMessage('hello')
    })
    expect(screen.getByTestId('messages').textContent).toBe('1')
    expect(renders).toEqual({ counter: 1, messages: 2, 'shallow summary': 1 })

    await act(async () => {
      await client.actions.increment(2)
    })
    expect(screen.getByTestId('counter').textContent).toBe('2')
    expect(screen.getByTestId('shallow summary').textContent).toBe('2')
    expect(renders).toEqual({ counter: 2, messages: 2, 'shallow summary': 2 })

    // A change made by the server (another writer) reaches the component as well.
    await act(async () => {
      await s.server.actions.increment(1)
      await client.waitFor((state) => state.counter === 3)
    })
    expect(screen.getByTestId('counter').textContent).toBe('3')
    expect(renders).toEqual({ counter: 3, messages: 2, 'shallow summary': 3 })
  })

  it('re-renders on every change when a selector builds a new value and no isEqual says it is the same', async () => {
    await using s = await served()
    const { client } = s
    render(<Summary client={client} />)
    expect(renders).toEqual({ summary: 1 })
    await act(async () => {
      await client.actions.addMessage('a')
    })
    await act(async () => {
      await client.actions.addMessage('b')
    })
    expect(renders).toEqual({ summary: 3 })
    expect(screen.getByTestId('summary').textContent).toBe('0')
  })

  it('stops listening when the component unmounts', async () => {
    await using s = await served()
    const { client } = s
    let listeners = 0
    const counted: StoreStateSource<State> = {
      get state() {
        return client.state
      },
      subscribe(listener) {
        listeners += 1
        const stop = client.subscribe(listener)
        return () => {
          listeners -= 1
          stop()
        }
      },
    }
    const view = render(<Counter client={counted} />)
    expect(listeners).toBe(1)
    view.unmount()
    expect(listeners).toBe(0)
    await client.actions.increment(1)
    expect(renders).toEqual({ counter: 1 })
  })
})
