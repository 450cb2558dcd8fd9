// The watcher run beside client processes that join and leave, as separate processes over the demo's socket.
import { describe, expect, it } from 'vitest'
import { run, tempSocketRoot } from './run-demo.js'

describe('src/watcher.ts', () => {
  it('prints a client joining and leaving: once its grace ran out when it is killed, at once when it exits', async () => {
    await using root = await tempSocketRoot()
    // A short grace, so that the killed client is left soon.
    const env = { IPC_STATE_LEAVE_GRACE: '300' }
    await using server = run(process.execPath, ['--import', 'tsx', 'src/server.ts'], root.dir, { env })
    await server.waitForLine(/^ready: /)
    // Never done: it watches until it is stopped.
    const watcherArgs = ['--import', 'tsx', 'src/watcher.ts', '--counter', '1000']
    await using watcher = run(process.execPath, watcherArgs, root.dir)
    await watcher.waitForLine(/^watching /)

    // Another client process, killed while it is connected: no goodbye, so it is left once its grace ran out.
    await using killed = run(process.execPath, watcherArgs, root.dir)
    const killedId = /as (watcher-[0-9a-f]{8}) /.exec(await killed.waitForLine(/^watching /))![1]!
    await watcher.waitForLine(new RegExp(`^v\\d+ ${killedId} joined \\(2 clients connected\\)$`))
    killed.child.kill('SIGKILL')
    await killed.exited
    await watcher.waitForLine(new RegExp(`^v\\d+ ${killedId} left \\(1 client connected\\)$`))

    // One that exits cleanly says goodbye on its way out.
    await using incrementer = run(process.execPath, ['--import', 'tsx', 'src/incrementer.ts', '--count', '1'], root.dir)
    expect(await incrementer.exited, incrementer.output()).toEqual({ code: 0, signal: null })
    await watcher.waitForLine(/^v\d+ incrementer-[0-9a-f]{8} left \(1 client connected\)$/)

    const presence = watcher.lines.filter((line) => / (joined|left) \(/.test(line)).map((line) => line.replace(/^v\d+ /, ''))
    expect(presence).toEqual([
      // Its own join, unless the state it started from held it already.
      ...(presence.length === 5 ? [expect.stringMatching(/^watcher-[0-9a-f]{8} joined \(1 client connected\)$/)] : []),
      `${killedId} joined (2 clients connected)`,
      `${killedId} left (1 client connected)`,
      expect.stringMatching(/^incrementer-[0-9a-f]{8} joined \(2 clients connected\)$/),
      expect.stringMatching(/^incrementer-[0-9a-f]{8} left \(1 client connected\)$/),
    ])
    watcher.child.kill('SIGTERM')
    expect(await watcher.exited, watcher.output()).toEqual({ code: 0, signal: null })
    server.child.kill('SIGTERM')
    expect(await server.exited, server.output()).toEqual({ code: 0, signal: null })
  })
})
