import { chmod, chown, lchown, lstat, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { localSocketRoot, prepareSocketRoot } from './socket-file.js'

const uid = process.getuid?.()
const isRoot = uid === 0
const NOBODY = 65534

let base: string
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'socket-file-'))
})
afterEach(async () => {
  await rm(base, { recursive: true, force: true })
})

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: IpcStateError) => error,
  )

describe.skipIf(uid === undefined)('prepareSocketRoot', () => {
  it('creates a missing socket folder, and the folders above it, with mode 0700', async () => {
    const root = join(base, 'a', 'b')
    await prepareSocketRoot(join(root, 'app.id'), false)
    expect((await lstat(root)).mode & 0o777).toBe(0o700)
  })

  it('refuses a socket folder under a folder that others can write to, naming that folder', async () => {
    const open = join(base, 'open')
    await mkdir(join(open, 'sockets'), { recursive: true, mode: 0o700 })
    await chmod(open, 0o777)
    const error = await refusal(prepareSocketRoot(join(open, 'sockets', 'app.id'), false))
    expect(error).toMatchObject({ code: ErrorCode.UNSAFE_SOCKET_ROOT, data: { folder: open } })
    expect(error?.message).toContain(`the folder ${open} above it is unsafe: others can write to it (mode 777)`)
    expect(error?.message).toContain('allowUnsafeSocketRoot: true')
  })

  it('accepts a folder above that others can write to when its sticky bit is set, as /tmp', async () => {
    const shared = join(base, 'shared')
    await mkdir(shared)
    await chmod(shared, 0o1777)
    await prepareSocketRoot(join(shared, 'mine', 'app.id'), false)
  })

  it('lets allowUnsafeSocketRoot accept any folder above', async () => {
    const open = join(base, 'open')
    await mkdir(open)
    await chmod(open, 0o777)
    await prepareSocketRoot(join(open, 'sockets', 'app.id'), true)
  })

  it.skipIf(!isRoot)("refuses a socket folder under another user's folder (as root: one made for user nobody)", async () => {
    const theirs = join(base, 'theirs')
    await mkdir(join(theirs, 'sockets'), { recursive: true, mode: 0o700 })
    await chmod(theirs, 0o755)
    await chown(theirs, NOBODY, NOBODY)
    const error = await refusal(prepareSocketRoot(join(theirs, 'sockets', 'app.id'), false))
    expect(error).toMatchObject({ code: ErrorCode.UNSAFE_SOCKET_ROOT, data: { folder: theirs } })
    expect(error?.message).toContain(`belongs to user ${NOBODY}`)
  })

  it.skipIf(!isRoot)("refuses a path through another user's symbolic link, and checks where a link leads", async () => {
    const real = join(base, 'real')
    await mkdir(join(real, 'sockets'), { recursive: true, mode: 0o700 })
    const link = join(base, 'link')
    await symlink(real, link)
    // The link is this user's and leads to safe folders: accepted.
    await prepareSocketRoot(join(link, 'sockets', 'app.id'), false)
    // The same link, another user's: they could point it elsewhere.
    await lchown(link, NOBODY, NOBODY)
    const error = await refusal(prepareSocketRoot(join(link, 'sockets', 'app.id'), false))
    expect(error).toMatchObject({ code: ErrorCode.UNSAFE_SOCKET_ROOT, data: { folder: link } })
    // And a link that leads under a folder others can write to.
    await lchown(link, uid!, uid!)
    await chmod(real, 0o777)
    const under = await refusal(prepareSocketRoot(join(link, 'sockets', 'app.id'), false))
    expect(under).toMatchObject({ code: ErrorCode.UNSAFE_SOCKET_ROOT, data: { folder: real } })
  })
})

describe('localSocketRoot', () => {
  const saved = process.env.XDG_RUNTIME_DIR
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR
    else process.env.XDG_RUNTIME_DIR = saved
  })

  it.skipIf(uid === undefined)('is a folder named for the user in the temporary folder, without a runtime folder', () => {
    delete process.env.XDG_RUNTIME_DIR
    expect(localSocketRoot()).toBe(`${tmpdir().replace(/\/+$/, '')}/ipc-state-${uid}/`)
  })

  it.skipIf(uid === undefined)("uses XDG_RUNTIME_DIR when it is this user's private folder, and not otherwise", async () => {
    const runtime = join(base, 'run')
    await mkdir(runtime, { mode: 0o700 })
    process.env.XDG_RUNTIME_DIR = runtime
    expect(localSocketRoot()).toBe(`${runtime}/ipc-state/`)
    await chmod(runtime, 0o777)
    expect(localSocketRoot()).toBe(`${tmpdir().replace(/\/+$/, '')}/ipc-state-${uid}/`)
    process.env.XDG_RUNTIME_DIR = join(base, 'missing')
    expect(localSocketRoot()).toBe(`${tmpdir().replace(/\/+$/, '')}/ipc-state-${uid}/`)
  })
})
