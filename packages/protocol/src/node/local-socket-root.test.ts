import { describe, expect, it } from 'vitest'
import { type LocalSocketRootHost, localSocketRoot } from './local-socket-root.js'

/** A host for user 1000 whose `lstatSync` finds only the folders of `folders`. */
function host(
  env: Record<string, string | undefined>,
  folders: Record<string, { uid: number; mode: number; directory?: boolean }> = {},
  platform = 'linux',
): LocalSocketRootHost & { looked: string[] } {
  const looked: string[] = []
  return {
    looked,
    process: { platform, env, getuid: () => 1000 },
    lstatSync(path) {
      looked.push(path)
      const folder = folders[path]
      if (folder === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
      return { uid: folder.uid, mode: folder.mode, isDirectory: () => folder.directory ?? true }
    },
    tmpdir: () => '/var/tmp/',
  }
}

describe('localSocketRoot', () => {
  it('takes XDG_RUNTIME_DIR when lstat shows it is this user’s private folder', () => {
    expect(localSocketRoot(host({ XDG_RUNTIME_DIR: '/run/user/1000' }, { '/run/user/1000': { uid: 1000, mode: 0o40700 } }))).toBe(
      '/run/user/1000/ipc-state/',
    )
  })

  it('falls back to the temporary folder when XDG_RUNTIME_DIR is missing, unreadable, foreign, open or not a folder', () => {
    const cases: [Record<string, string | undefined>, Record<string, { uid: number; mode: number; directory?: boolean }>][] = [
      [{}, {}],
      [{ XDG_RUNTIME_DIR: '' }, {}],
      [{ XDG_RUNTIME_DIR: '/run/user/1000' }, {}],
      [{ XDG_RUNTIME_DIR: '/run/user/1000' }, { '/run/user/1000': { uid: 1001, mode: 0o40700 } }],
      [{ XDG_RUNTIME_DIR: '/run/user/1000' }, { '/run/user/1000': { uid: 1000, mode: 0o40777 } }],
      [{ XDG_RUNTIME_DIR: '/run/user/1000' }, { '/run/user/1000': { uid: 1000, mode: 0o100600, directory: false } }],
      [{ XDG_RUNTIME_DIR: 'relative' }, { relative: { uid: 1000, mode: 0o40700 } }],
    ]
    for (const [env, folders] of cases) {
      expect(localSocketRoot(host(env, folders)), JSON.stringify(env)).toBe('/var/tmp/ipc-state-1000/')
    }
  })

  it('does not look at the file system when XDG_RUNTIME_DIR is unset or empty', () => {
    for (const env of [{}, { XDG_RUNTIME_DIR: '' }]) {
      const fake = host(env)
      localSocketRoot(fake)
      expect(fake.looked).toEqual([])
    }
  })

  it('gives node-ipc’s /tmp/ on Windows and where the process has no user id', () => {
    expect(localSocketRoot(host({}, {}, 'win32'))).toBe('/tmp/')
    const noUid = host({})
    expect(localSocketRoot({ ...noUid, process: { platform: 'linux', env: {} } })).toBe('/tmp/')
  })

  it('calls getuid on the process, as Node’s needs', () => {
    const process = {
      platform: 'linux',
      env: {},
      uid: 1234,
      getuid(this: { uid: number }) {
        return this.uid
      },
    }
    expect(localSocketRoot({ process, lstatSync: host({}).lstatSync, tmpdir: () => '/tmp' })).toBe('/tmp/ipc-state-1234/')
  })
})
