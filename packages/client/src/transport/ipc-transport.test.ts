import { lstatSync } from 'node:fs'
import { chown, lchown, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import { localSocketRoot } from '@ipc-state/protocol/node'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { connect } from '../node-connect.js'
import { openIpcConnection, unixSocketTransport, type IpcConnectionOptions } from './ipc-transport.js'

const uid = process.getuid?.()
const isRoot = uid === 0
const NOBODY = 65534

/** A plain socket server that counts what reaches it, and never answers. */
interface Listener {
  readonly path: string
  connections: number
  bytes: number
  close(): Promise<void>
}

let dir: string
const listeners: Listener[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipc-transport-'))
})
afterEach(async () => {
  for (const listener of listeners.splice(0)) await listener.close()
  await rm(dir, { recursive: true, force: true })
})

async function listen(name = 'app.server'): Promise<Listener> {
  const path = join(dir, name)
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    listener.connections += 1
    sockets.add(socket)
    socket.on('data', (chunk) => {
      listener.bytes += chunk.length
    })
    socket.on('close', () => sockets.delete(socket))
  })
  const listener: Listener = {
    path,
    connections: 0,
    bytes: 0,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
  await new Promise<void>((resolve) => server.listen(path, resolve))
  listeners.push(listener)
  return listener
}

/** One attempt through node-ipc: resolves `open` if it connected, or the error it closed with. */
function attempt(
  path: string,
  options?: IpcConnectionOptions,
): Promise<{ opened: true } | { opened: false; error: Error | undefined }> {
  return new Promise((resolve) => {
    const connection = openIpcConnection(
      path,
      {
        open: () => {
          resolve({ opened: true })
          connection.close()
        },
        data: () => {},
        close: (error) => resolve({ opened: false, error }),
      },
      options,
    )
  })
}

describe.skipIf(uid === undefined)('openIpcConnection: whose socket it is', () => {
  it("connects to this user's own socket", async () => {
    const server = await listen()
    expect(await attempt(server.path)).toEqual({ opened: true })
    expect(server.connections).toBe(1)
  })

  it('fails a missing socket as a connection attempt would, without connecting', async () => {
    const result = await attempt(join(dir, 'nobody-here'))
    expect(result).toMatchObject({
      opened: false,
      error: { code: 'ENOENT', message: `connect ENOENT ${join(dir, 'nobody-here')}` },
    })
  })

  it('refuses a path that is not a socket with NOT_A_SOCKET', async () => {
    const path = join(dir, 'a-file')
    await writeFile(path, '')
    const result = await attempt(path)
    expect(result).toMatchObject({ opened: false, error: { code: ErrorCode.NOT_A_SOCKET } })
  })

  it.skipIf(!isRoot)(
    "refuses another user's socket with FOREIGN_SERVER and never connects to it (as root: one given to nobody)",
    async () => {
      const server = await listen()
      await chown(server.path, NOBODY, NOBODY)
      const result = await attempt(server.path)
      expect(result).toMatchObject({ opened: false, error: { code: ErrorCode.FOREIGN_SERVER, data: { owner: NOBODY, uid } } })
      const { message } = (result as { error: Error }).error
      expect(message).toContain(`belongs to user ${NOBODY}`)
      expect(message).toContain('allowForeignServer: true')
      expect(server.connections).toBe(0)
      // Told to, it connects.
      expect(await attempt(server.path, { allowForeignServer: true })).toEqual({ opened: true })
      expect(server.connections).toBe(1)
    },
  )

  it.skipIf(!isRoot)("refuses a symbolic link of another user's, even to this user's own socket", async () => {
    const server = await listen()
    const link = join(dir, 'app.link')
    await symlink(server.path, link)
    expect(await attempt(link)).toEqual({ opened: true })
    await lchown(link, NOBODY, NOBODY)
    expect(await attempt(link)).toMatchObject({ opened: false, error: { code: ErrorCode.FOREIGN_SERVER } })
    await lchown(link, uid!, uid!)
    await chown(server.path, NOBODY, NOBODY)
    expect(await attempt(link)).toMatchObject({ opened: false, error: { code: ErrorCode.FOREIGN_SERVER } })
    expect(server.connections).toBe(1)
  })
})

describe.skipIf(!isRoot)('connect to a socket another user owns (as root: one given to nobody)', () => {
  it('rejects with FOREIGN_SERVER after one attempt, having sent nothing', async () => {
    const server = await listen('app.foreign')
    await chown(server.path, NOBODY, NOBODY)
    const retryDelay = vi.fn(() => 1_000)
    const error = await connect({ socketRoot: `${dir}/`, id: 'foreign', connectAttempts: 5, retryDelay }).then(
      () => undefined,
      (e: IpcStateError) => e,
    )
    expect(error).toMatchObject({ code: ErrorCode.FOREIGN_SERVER, retryable: false })
    // No retry was even planned: it failed on the first attempt.
    expect(retryDelay).not.toHaveBeenCalled()
    expect([server.connections, server.bytes]).toEqual([0, 0])
  })
})

describe('unixSocketTransport', () => {
  it("defaults socketRoot to this user's own folder, the one the server uses, not node-ipc's shared /tmp/", () => {
    const { name } = unixSocketTransport({ id: 'x' })
    expect(name).toBe(`${localSocketRoot({ process, lstatSync, tmpdir })}app.x`)
    if (process.getuid !== undefined) expect(name).not.toBe('/tmp/app.x')
    expect(unixSocketTransport({ socketRoot: '/tmp/', appspace: 'test.', id: 'y' }).name).toBe('/tmp/test.y')
  })
})
