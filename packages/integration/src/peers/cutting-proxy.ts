// A Unix-socket proxy between clients and a server that cuts every connection on demand: a network that fails for a while.
import { createConnection, createServer, type Socket } from 'node:net'
import { rm } from 'node:fs/promises'
import { type FixtureAddress, serverPath } from '../processes/fixture-env.js'

/** A running proxy; disposing it closes it and every connection through it. */
export interface CuttingProxy extends AsyncDisposable {
  /** Where clients connect to reach the server through the proxy. */
  readonly address: FixtureAddress
  /** Connections accepted and forwarded so far (refused ones not counted). */
  readonly forwarded: number
  /** Whether the proxy is cut: it holds no connection and refuses every new one. */
  readonly isCut: boolean
  /** Drops every connection at once, and refuses new ones (accepted, then closed) until `restore`. */
  cut(): void
  /** Forwards new connections again. */
  restore(): void
}

export interface CuttingProxyOptions {
  /** The server's socket path, where connections are forwarded. */
  target: string
  /** The socket folder of the proxy's own socket, with its trailing slash. */
  socketRoot: string
  /** @default 'test.' */
  appspace?: string
  /** @default 'proxy' */
  id?: string
}

/** Starts a proxy listening at `socketRoot + appspace + id`, forwarding to `target`. */
export async function startCuttingProxy(options: CuttingProxyOptions): Promise<CuttingProxy> {
  const address: FixtureAddress = {
    socketRoot: options.socketRoot,
    appspace: options.appspace ?? 'test.',
    id: options.id ?? 'proxy',
  }
  const path = serverPath(address.socketRoot, address)
  const pairs = new Set<[Socket, Socket]>()
  let cut = false
  let forwarded = 0
  const server = createServer((client) => {
    if (cut) {
      client.destroy()
      return
    }
    forwarded += 1
    const upstream = createConnection(options.target)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of pair) {
      socket.on('error', drop)
      socket.on('close', drop)
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
  const dropAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy()
      upstream.destroy()
    }
    pairs.clear()
  }
  return {
    address,
    get forwarded() {
      return forwarded
    },
    get isCut() {
      return cut
    },
    cut() {
      cut = true
      dropAll()
    },
    restore() {
      cut = false
    },
    [Symbol.asyncDispose]: async () => {
      dropAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(path, { force: true })
    },
  }
}
