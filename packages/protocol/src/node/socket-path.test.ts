import { describe, it, expect } from 'vitest'
import { thrown } from '../../test/test-helpers.js'
import {
  DEFAULT_APPSPACE,
  DEFAULT_SOCKET_ROOT,
  defaultSocketRoot,
  maxUnixSocketPathBytes,
  resolveSocketPath,
  socketRootWarning,
  type ResolveSocketPathOptions,
} from './socket-path.js'
import { IpcStateError } from '../errors.js'
import { utf8ByteLength } from '../wire/frame.js'

/** A Linux path of exactly `bytes` bytes: '/tmp/' + 'app.' + an id of 'x's. */
const linuxPathOf = (bytes: number): ResolveSocketPathOptions => ({ id: 'x'.repeat(bytes - '/tmp/app.'.length) })

describe('defaults', () => {
  it('are node-ipc’s', () => {
    expect(DEFAULT_SOCKET_ROOT).toBe('/tmp/')
    expect(DEFAULT_APPSPACE).toBe('app.')
  })
})

describe('defaultSocketRoot', () => {
  const own = { uid: 1000, mode: 0o40700, directory: true }

  it('is a folder named for the user inside the temporary folder when there is no runtime folder', () => {
    expect(defaultSocketRoot({ uid: 1000, tmpdir: '/tmp' })).toBe('/tmp/ipc-state-1000/')
    expect(defaultSocketRoot({ uid: 0, tmpdir: '/var/tmp/' })).toBe('/var/tmp/ipc-state-0/')
    expect(defaultSocketRoot({ uid: 501, tmpdir: '/private/var/folders/xy/T//', platform: 'darwin' })).toBe(
      '/private/var/folders/xy/T/ipc-state-501/',
    )
    expect(defaultSocketRoot({ uid: 7, tmpdir: '/' })).toBe('/ipc-state-7/')
  })

  it("uses XDG_RUNTIME_DIR when it is the user's own folder that nobody else can write to", () => {
    expect(defaultSocketRoot({ uid: 1000, tmpdir: '/tmp', runtimeDir: '/run/user/1000', runtimeDirStat: own })).toBe(
      '/run/user/1000/ipc-state/',
    )
    expect(defaultSocketRoot({ uid: 1000, tmpdir: '/tmp', runtimeDir: '/run/user/1000/', runtimeDirStat: own })).toBe(
      '/run/user/1000/ipc-state/',
    )
    // Group- or world-readable is fine: only writing lets someone put a socket there.
    expect(
      defaultSocketRoot({ uid: 1000, tmpdir: '/tmp', runtimeDir: '/run/user/1000', runtimeDirStat: { ...own, mode: 0o40755 } }),
    ).toBe('/run/user/1000/ipc-state/')
  })

  it.each([
    ['not checked', '/run/user/1000', undefined],
    ["another user's", '/run/user/1000', { ...own, uid: 1001 }],
    ["root's", '/run/user/1000', { ...own, uid: 0 }],
    ['writable by its group', '/run/user/1000', { ...own, mode: 0o40770 }],
    ['writable by everyone, even with the sticky bit', '/run/user/1000', { ...own, mode: 0o41777 }],
    ['not a directory', '/run/user/1000', { ...own, directory: false }],
    ['relative (the XDG spec says to ignore it)', 'run/user/1000', own],
    ['empty', '', own],
  ])('falls back to the temporary folder when XDG_RUNTIME_DIR is %s', (_label, runtimeDir, runtimeDirStat) => {
    expect(defaultSocketRoot({ uid: 1000, tmpdir: '/tmp', runtimeDir, runtimeDirStat })).toBe('/tmp/ipc-state-1000/')
  })

  it("keeps node-ipc's '/tmp/' on Windows, and where there is no user id", () => {
    expect(defaultSocketRoot({ platform: 'win32', uid: undefined, tmpdir: 'C:\\Temp' })).toBe(DEFAULT_SOCKET_ROOT)
    expect(defaultSocketRoot({ platform: 'win32', uid: 0, tmpdir: 'C:\\Temp', runtimeDir: '/run', runtimeDirStat: own })).toBe(
      '/tmp/',
    )
    expect(defaultSocketRoot({ uid: undefined, tmpdir: '/tmp' })).toBe('/tmp/')
    // The pipe name stays the one node-ipc derives.
    expect(
      resolveSocketPath({
        socketRoot: defaultSocketRoot({ platform: 'win32', uid: undefined, tmpdir: 'C:\\Temp' }),
        id: 'w',
        platform: 'win32',
      }),
    ).toBe('\\\\.\\pipe\\tmp-app.w')
  })

  it('fits a Unix socket path with room to spare for the usual folders', () => {
    const root = defaultSocketRoot({ uid: 4_294_967_294, tmpdir: '/tmp' })
    expect(resolveSocketPath({ socketRoot: root, appspace: 'ipc-ogreniyorum', id: 'server-socket' })).toBe(
      '/tmp/ipc-state-4294967294/ipc-ogreniyorumserver-socket',
    )
  })
})

describe('maxUnixSocketPathBytes', () => {
  it.each([
    ['linux', 107],
    ['android', 107],
    ['darwin', 103],
    ['freebsd', 103],
    ['openbsd', 103],
    ['sunos', 103],
  ])('%s allows %i bytes', (platform, max) => {
    expect(maxUnixSocketPathBytes(platform)).toBe(max)
  })
})

describe('resolveSocketPath', () => {
  it('joins the seed’s parts with nothing between them, as node-ipc does', () => {
    expect(resolveSocketPath({ socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' })).toBe(
      '/tmp/cem/ipc-ogreniyorumserver-socket',
    )
  })

  it('uses /tmp/ and app. by default', () => {
    expect(resolveSocketPath({ id: 'world' })).toBe('/tmp/app.world')
    expect(resolveSocketPath({ id: 'world', appspace: 'my.' })).toBe('/tmp/my.world')
    expect(resolveSocketPath({ id: 'world', socketRoot: '/run/user/1000/' })).toBe('/run/user/1000/app.world')
  })

  it('treats explicit undefined parts as absent', () => {
    expect(resolveSocketPath({ id: 'w', socketRoot: undefined, appspace: undefined, platform: undefined })).toBe('/tmp/app.w')
  })

  it('does not add a slash missing from socketRoot', () => {
    expect(resolveSocketPath({ socketRoot: '/tmp', appspace: '', id: 'sock' })).toBe('/tmpsock')
  })

  it('allows an empty appspace and socketRoot', () => {
    expect(resolveSocketPath({ socketRoot: '', appspace: '', id: 'relative.sock' })).toBe('relative.sock')
  })

  it('returns the same path on every Unix platform', () => {
    for (const platform of ['linux', 'darwin', 'freebsd']) {
      expect(resolveSocketPath({ socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket', platform })).toBe(
        '/tmp/cem/ipc-ogreniyorumserver-socket',
      )
    }
  })

  describe('on win32', () => {
    it('derives the named pipe as node-ipc 12 does', () => {
      expect(
        resolveSocketPath({ socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket', platform: 'win32' }),
      ).toBe('\\\\.\\pipe\\tmp-cem-ipc-ogreniyorumserver-socket')
      expect(resolveSocketPath({ id: 'world', platform: 'win32' })).toBe('\\\\.\\pipe\\tmp-app.world')
    })

    it('drops only one leading slash and turns every other slash into -', () => {
      expect(resolveSocketPath({ socketRoot: '//a/b/', appspace: 'c/', id: 'd', platform: 'win32' })).toBe('\\\\.\\pipe\\-a-b-c-d')
      expect(resolveSocketPath({ socketRoot: 'rel/', appspace: '', id: 'x', platform: 'win32' })).toBe('\\\\.\\pipe\\rel-x')
    })

    it('leaves backslashes alone', () => {
      expect(resolveSocketPath({ socketRoot: 'C:\\temp\\', appspace: 'app.', id: 'x', platform: 'win32' })).toBe(
        '\\\\.\\pipe\\C:\\temp\\app.x',
      )
    })

    it('keeps a path that already is a pipe', () => {
      expect(resolveSocketPath({ socketRoot: '\\\\.\\pipe\\', appspace: 'app.', id: 'world', platform: 'win32' })).toBe(
        '\\\\.\\pipe\\app.world',
      )
      expect(resolveSocketPath({ socketRoot: '\\\\.\\pipe\\', appspace: 'a/b.', id: 'c', platform: 'win32' })).toBe(
        '\\\\.\\pipe\\a/b.c',
      )
    })

    it('applies no Unix length limit', () => {
      const id = 'x'.repeat(300)
      expect(resolveSocketPath({ id, platform: 'win32' })).toBe(`\\\\.\\pipe\\tmp-app.${id}`)
    })
  })

  describe('length limit', () => {
    it('accepts 107 bytes on Linux and refuses 108', () => {
      const ok = resolveSocketPath(linuxPathOf(107))
      expect(ok).toHaveLength(107)
      const error = thrown(() => resolveSocketPath(linuxPathOf(108)))
      expect(error).toBeInstanceOf(IpcStateError)
      expect((error as IpcStateError).code).toBe('PATH_TOO_LONG')
    })

    it('uses the Linux limit by default and for android', () => {
      expect(() => resolveSocketPath({ ...linuxPathOf(107), platform: 'android' })).not.toThrow()
      expect(() => resolveSocketPath({ ...linuxPathOf(108), platform: 'android' })).toThrow(IpcStateError)
    })

    it('accepts 103 bytes on darwin and refuses 104', () => {
      expect(resolveSocketPath({ ...linuxPathOf(103), platform: 'darwin' })).toHaveLength(103)
      const error = thrown(() => resolveSocketPath({ ...linuxPathOf(104), platform: 'darwin' }))
      expect((error as IpcStateError).code).toBe('PATH_TOO_LONG')
      expect(() => resolveSocketPath({ ...linuxPathOf(104), platform: 'freebsd' })).toThrow(IpcStateError)
    })

    it('counts bytes of UTF-8, not characters', () => {
      // 'ö' is two bytes: 9 + 49 * 2 = 107 bytes in 58 characters.
      const fits = { id: 'ö'.repeat(49) }
      expect(utf8ByteLength(resolveSocketPath(fits))).toBe(107)
      const tooLong = { id: 'ö'.repeat(49) + 'x' } // 108 bytes, 59 characters
      expect(() => resolveSocketPath(tooLong)).toThrow(IpcStateError)
      // 4-byte characters: 9 + 25 * 4 = 109 bytes in only 59 UTF-16 units.
      expect(() => resolveSocketPath({ id: '😀'.repeat(25) })).toThrow(IpcStateError)
      expect(() => resolveSocketPath({ id: '😀'.repeat(24) + 'xx' })).not.toThrow()
    })

    it('names the path, its size and the limit in the error', () => {
      const options = { socketRoot: '/var/tmp/some/deep/folder/', appspace: 'my-app.', id: 'y'.repeat(100) }
      const path = options.socketRoot + options.appspace + options.id
      const error = thrown(() => resolveSocketPath(options)) as IpcStateError
      expect(error).toBeInstanceOf(IpcStateError)
      expect(error.message).toContain(path)
      expect(error.message).toContain(`${path.length} bytes`)
      expect(error.message).toContain('107')
      expect(error.message).toContain('linux')
      expect(error.data).toEqual({ path, bytes: path.length, max: 107 })
      expect(error.retryable).toBe(false)
    })
  })

  describe('bad parts', () => {
    it('refuses an empty id', () => {
      expect(() => resolveSocketPath({ id: '' })).toThrow(TypeError)
      expect(() => resolveSocketPath({ id: '' })).toThrow(/id must be a non-empty string/)
      expect(() => resolveSocketPath({ id: '', platform: 'win32' })).toThrow(TypeError)
    })

    it.each([
      ['id', { id: 'a\0b' }],
      ['socketRoot', { id: 'a', socketRoot: '/tmp/\0/' }],
      ['appspace', { id: 'a', appspace: '\0' }],
    ])('refuses a NUL character in %s', (name, options) => {
      expect(() => resolveSocketPath(options)).toThrow(TypeError)
      expect(() => resolveSocketPath(options)).toThrow(new RegExp(`${name} must not contain a NUL`))
      expect(() => resolveSocketPath({ ...options, platform: 'win32' })).toThrow(TypeError)
    })

    it.each([
      ['id', { id: 5 }],
      ['id', { id: undefined }],
      ['id', {}],
      ['id', { id: null }],
      ['id', { id: ['a'] }],
      ['socketRoot', { id: 'a', socketRoot: null }],
      ['socketRoot', { id: 'a', socketRoot: 1 }],
      ['appspace', { id: 'a', appspace: false }],
      ['appspace', { id: 'a', appspace: {} }],
    ])('refuses a non-string %s', (name, options) => {
      const call = () => resolveSocketPath(options as unknown as ResolveSocketPathOptions)
      expect(call).toThrow(TypeError)
      expect(call).toThrow(new RegExp(`${name} must be a string`))
    })
  })
})

describe('socketRootWarning', () => {
  it.each([undefined, '', '/tmp/', '/tmp/cem/', 'C:\\sockets\\'])('is silent for %j', (socketRoot) => {
    expect(socketRootWarning(socketRoot)).toBeUndefined()
  })

  it('warns when the folder lacks its trailing separator, naming it and the fix', () => {
    const warning = socketRootWarning('/tmp/cem')
    expect(warning).toContain('"/tmp/cem"')
    expect(warning).toMatch(/trailing "\/"/)
  })
})
