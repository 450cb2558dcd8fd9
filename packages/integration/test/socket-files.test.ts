// Socket file safety: no takeover of a live server, reclaiming a dead one's socket, leaving other
// files alone, and refusing folders others could tamper with.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { createServer as createNetServer } from 'node:net'
import { createServer, type IpcStateServer } from '@ipc-state/server'
import { describe, expect, it } from 'vitest'
import { addressEnv, fixtureAddress, serverPath } from '../src/processes/fixture-env.js'
import { crashLines, fixture, startFixture, tempSocketRoot, type FixtureEvent } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { startServer } from '../src/processes/server-fixture.js'
import { testStore } from '../src/stores/test-store.js'

/** Starts the server fixture expecting it to fail; returns its error event and exit code. */
async function expectStartFailure(socketRoot: string): Promise<{ event: FixtureEvent; code: number | null }> {
  await using child = startFixture(fixture('servers/server.ts'), { env: addressEnv({ socketRoot }) })
  const event = await child.waitFor((e) => e.event === 'error' || e.event === 'ready')
  expect(event.event).toBe('error')
  const exit = await child.exited
  return { event, code: exit.code }
}

/** A hello over a raw socket; returns the epoch of the server that answered. */
async function helloEpoch(path: string): Promise<string> {
  await using raw = await RawClient.connect(path)
  await raw.send({ type: 'hello', data: { id: 1, protocol: 1, clientId: 'probe', replica: false } })
  await raw.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
  const hello = await raw.response(1)
  expect((await raw.response(2)).data.error).toBeUndefined()
  return hello.data.result.epoch as string
}

const isRoot = process.getuid?.() === 0

describe('socket files', () => {
  it('a second server on a live path fails with ADDRESS_IN_USE and the first keeps serving new clients', async () => {
    await using first = await startServer()
    await using connected = await RawClient.hello(first.path)
    const before = await lstat(first.path)

    const { event, code } = await expectStartFailure(first.socketRoot)
    expect(event.code).toBe('ADDRESS_IN_USE')
    expect(event.message).toContain(first.path)
    expect(code).toBe(1)

    // Same socket file, still the first server's, and it takes new connections.
    const after = await lstat(first.path)
    expect(after.isSocket()).toBe(true)
    expect(after.ino).toBe(before.ino)
    expect(await helloEpoch(first.path)).toBe(first.epoch)
    expect(await helloEpoch(first.path)).toBe(first.epoch)
    // Its existing connection too.
    await connected.send({ type: 'state/get', data: { id: 5 } })
    expect((await connected.response(5)).data.result.epoch).toBe(first.epoch)
    expect(crashLines(first.process)).toEqual([])
  })

  it('the socket left by kill -9 is reclaimed by the next server', async () => {
    await using dir = await tempSocketRoot()
    await using first = await startServer(dir)
    await first.process.stop('SIGKILL')
    expect((await lstat(first.path)).isSocket()).toBe(true)

    await using second = await startServer(dir)
    expect(second.path).toBe(first.path)
    expect(second.epoch).not.toBe(first.epoch)
    expect(await helloEpoch(second.path)).toBe(second.epoch)
    expect(crashLines(second.process)).toEqual([])
  })

  it('a start-up lock left by a dead process is taken over; one held by a live process is respected', async () => {
    await using dir = await tempSocketRoot()
    const lockPath = `${serverPath(dir.socketRoot)}.lock`
    await writeFile(lockPath, String(process.pid))
    const { event } = await expectStartFailure(dir.socketRoot)
    expect(event.code).toBe('ADDRESS_IN_USE')
    expect(event.message).toContain(lockPath)

    // A process that has exited cannot hold the lock any more.
    const gone = spawn(process.execPath, ['-e', ''])
    await once(gone, 'exit')
    await writeFile(lockPath, String(gone.pid))
    await using server = await startServer(dir)
    expect(await helloEpoch(server.path)).toBe(server.epoch)
    await expect(lstat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('two servers racing for a stale socket: exactly one serves, the other fails with ADDRESS_IN_USE', async () => {
    await using dir = await tempSocketRoot()
    const path = serverPath(dir.socketRoot)
    // A dead socket file, as kill -9 leaves one: a hard link keeps it after its listener closed.
    const makeStale = async () => {
      const scratch = `${dir.socketRoot}scratch`
      const listener = createNetServer()
      await new Promise<void>((resolve) => listener.listen(scratch, resolve))
      await link(scratch, path)
      await new Promise<void>((resolve) => listener.close(() => resolve()))
      expect((await lstat(path)).isSocket()).toBe(true)
    }
    type Outcome = { server: IpcStateServer<unknown> } | { code: string; message: string }
    const start = (): Promise<Outcome> =>
      createServer({ store: testStore, ...fixtureAddress(dir) }).then(
        (server) => ({ server }),
        (error: { code: string; message: string }) => ({ code: error.code, message: error.message }),
      )
    const wrong: string[] = []
    // The second server starts a few event-loop turns after the first, to cover the window
    // between the first one's probe of the stale socket and its listen.
    for (let stagger = 0; stagger < 30; stagger++) {
      await makeStale()
      const first = start()
      for (let turn = 0; turn < stagger; turn++) await new Promise((resolve) => setImmediate(resolve))
      const outcomes = await Promise.all([first, start()])
      const servers = outcomes.flatMap((o) => ('server' in o ? [o.server] : []))
      const failure = outcomes.find((o): o is { code: string; message: string } => 'code' in o)
      if (servers.length !== 1 || failure?.code !== 'ADDRESS_IN_USE') {
        // Both listening means one lost its socket file to the other and serves no one.
        wrong.push(
          `stagger ${stagger}: ${servers.length} listening; ${outcomes.map((o) => ('code' in o ? `${o.code} (${o.message})` : 'ok')).join(' / ')}`,
        )
      } else {
        expect(await helloEpoch(path)).toBe(servers[0]!.epoch)
      }
      await Promise.all(servers.map((server) => server.close()))
      await rm(path, { force: true })
    }
    expect(wrong, wrong.join('\n')).toEqual([])
  })

  it("closing a server whose socket file was replaced leaves the new server's socket alone", async () => {
    await using dir = await tempSocketRoot()
    await using old = await startServer(dir)
    // Someone (a /tmp cleaner, an operator) removes the live socket file; a new server starts.
    await rm(old.path)
    await using current = await startServer(dir)
    const before = await lstat(current.path)
    expect(await helloEpoch(current.path)).toBe(current.epoch)

    await old.process.stop('SIGTERM')
    expect(old.process.events.some((e) => e.event === 'closed')).toBe(true)
    // The old server's close must only remove its own socket file, which is long gone.
    const after = await lstat(current.path).catch(() => undefined)
    expect(after?.ino, `the socket file of the running server at ${current.path} was deleted`).toBe(before.ino)
    expect(await helloEpoch(current.path)).toBe(current.epoch)
  })

  it('a clean close removes the socket file', async () => {
    await using dir = await tempSocketRoot()
    await using server = await startServer(dir)
    expect((await lstat(server.path)).isSocket()).toBe(true)
    // closeOnSignals: SIGTERM closes the server, then the process exits 0.
    expect(await server.process.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(server.process.events.some((e) => e.event === 'closed')).toBe(true)
    await expect(lstat(server.path)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('a regular file at the path is left untouched: NOT_A_SOCKET', async () => {
    await using dir = await tempSocketRoot()
    const path = serverPath(dir.socketRoot)
    const content = 'precious data, not a socket\n'
    await writeFile(path, content, { mode: 0o644 })
    const { event, code } = await expectStartFailure(dir.socketRoot)
    expect(event.code).toBe('NOT_A_SOCKET')
    expect(event.message).toContain(path)
    expect(code).toBe(1)
    expect(await readFile(path, 'utf8')).toBe(content)
    const stats = await lstat(path)
    expect(stats.isFile()).toBe(true)
    expect(stats.mode & 0o777).toBe(0o644)
  })

  it('a directory or a symlink at the path is refused too, and the symlink target is unharmed', async () => {
    await using live = await startServer()
    await using dir = await tempSocketRoot()
    const path = serverPath(dir.socketRoot)
    await symlink(live.path, path)
    expect((await expectStartFailure(dir.socketRoot)).event.code).toBe('NOT_A_SOCKET')
    expect((await lstat(path)).isSymbolicLink()).toBe(true)
    expect(await helloEpoch(live.path)).toBe(live.epoch)

    await rm(path)
    await mkdir(path)
    expect((await expectStartFailure(dir.socketRoot)).event.code).toBe('NOT_A_SOCKET')
    expect((await lstat(path)).isDirectory()).toBe(true)
  })

  it('creates a missing socketRoot with mode 0700 and the socket with mode 0600', async () => {
    await using dir = await tempSocketRoot()
    const root = `${dir.socketRoot}a/b/`
    await using server = await startServer({ socketRoot: root })
    expect(server.path).toBe(serverPath(root))
    const folder = await stat(root)
    expect(folder.isDirectory()).toBe(true)
    expect(folder.mode & 0o7777).toBe(0o700)
    expect((await stat(`${dir.socketRoot}a/`)).mode & 0o7777).toBe(0o700)
    const socket = await lstat(server.path)
    expect(socket.isSocket()).toBe(true)
    expect(socket.mode & 0o777).toBe(0o600)
    expect(await helloEpoch(server.path)).toBe(server.epoch)
  })

  it('a world-writable socketRoot without the sticky bit is refused: UNSAFE_SOCKET_ROOT', async () => {
    await using dir = await tempSocketRoot()
    await chmod(dir.socketRoot, 0o777)
    const { event, code } = await expectStartFailure(dir.socketRoot)
    expect(event.code).toBe('UNSAFE_SOCKET_ROOT')
    expect(event.message).toContain(dir.socketRoot.replace(/\/$/, ''))
    expect(code).toBe(1)
    await expect(lstat(serverPath(dir.socketRoot))).rejects.toMatchObject({ code: 'ENOENT' })
    // Group-writable is as unsafe.
    await chmod(dir.socketRoot, 0o770)
    expect((await expectStartFailure(dir.socketRoot)).event.code).toBe('UNSAFE_SOCKET_ROOT')
    // With the sticky bit (as /tmp has) others cannot replace our socket: accepted.
    await chmod(dir.socketRoot, 0o1777)
    await using server = await startServer(dir)
    expect(await helloEpoch(server.path)).toBe(server.epoch)
  })

  it.skipIf(!isRoot)('a socketRoot owned by another user is refused: UNSAFE_SOCKET_ROOT', async () => {
    await using dir = await tempSocketRoot()
    await chown(dir.socketRoot, 65534, 65534)
    await chmod(dir.socketRoot, 0o755)
    const { event, code } = await expectStartFailure(dir.socketRoot)
    expect(event.code).toBe('UNSAFE_SOCKET_ROOT')
    expect(event.message).toContain('65534')
    expect(code).toBe(1)
    await expect(lstat(serverPath(dir.socketRoot))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('a path longer than 107 bytes fails with PATH_TOO_LONG naming the path; 107 bytes works', async () => {
    const base = await mkdtemp('/tmp/ipcs-')
    try {
      // The path is base + "/" + name + "/" + "test.server": 13 bytes around the name.
      const root = (pathBytes: number) => `${base}/${'d'.repeat(pathBytes - 13 - base.length)}/`
      const longRoot = root(108)
      const longPath = serverPath(longRoot)
      expect(Buffer.byteLength(longPath)).toBe(108)
      const { event, code } = await expectStartFailure(longRoot)
      expect(event.code).toBe('PATH_TOO_LONG')
      expect(event.message).toContain(longPath)
      expect(code).toBe(1)
      // Refused before touching the file system.
      await expect(lstat(longRoot)).rejects.toMatchObject({ code: 'ENOENT' })

      const fitRoot = root(107)
      expect(Buffer.byteLength(serverPath(fitRoot))).toBe(107)
      await using server = await startServer({ socketRoot: fitRoot })
      expect(server.path).toBe(serverPath(fitRoot))
      expect((await lstat(server.path)).isSocket()).toBe(true)
      expect(await helloEpoch(server.path)).toBe(server.epoch)
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
})
