// The command line: each run connects to the daemon, starting it first when it is not running.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { connect, ErrorCode, type IpcStateClient, isIpcStateError } from '@ipc-state/client'
import type { todoStore } from './store.js'

type TodoClient = IpcStateClient<typeof todoStore>

const address = { id: 'todo', socketRoot: process.env.IPC_STATE_SOCKET_ROOT }

/** Connects to the running daemon, or `undefined` when none answers. */
async function reach(): Promise<TodoClient | undefined> {
  try {
    return await connect<typeof todoStore>({ ...address, connectAttempts: 1 })
  } catch (error) {
    if (isIpcStateError(error) && error.code === ErrorCode.SERVER_UNAVAILABLE) return undefined
    throw error
  }
}

/** Starts the daemon as a process of its own, which outlives this one, and connects once it listens. */
async function startDaemon(): Promise<TodoClient> {
  const script = fileURLToPath(new URL('daemon.ts', import.meta.url))
  // The same Node.js and flags as this run (`--import tsx` here), detached from this terminal.
  const daemon = spawn(process.execPath, [...process.execArgv, script], { detached: true, stdio: 'ignore' })
  daemon.unref()
  console.log(`started the daemon (pid ${daemon.pid})`)
  // The library's backoff retries until the daemon listens: 50 ms doubling to 2 s, about 30 s in all.
  return connect<typeof todoStore>({ ...address, connectAttempts: 20 })
}

async function main(command = 'list', ...args: string[]): Promise<void> {
  if (command === 'stop') {
    const client = await reach()
    if (client === undefined) return console.log('the daemon is not running')
    // A daemon that has just started may not have recorded its pid yet (and pid 0 would signal our own group).
    const { daemonPid: pid } = await client.waitFor((state) => state.daemonPid !== 0)
    await client.close()
    process.kill(pid, 'SIGTERM')
    return console.log(`stopped the daemon (pid ${pid})`)
  }
  await using client = (await reach()) ?? (await startDaemon())
  if (command === 'add') {
    console.log(`added #${await client.actions.add(args.join(' '))}`)
  } else if (command === 'done') {
    await client.actions.done(Number(args[0]))
    console.log(`done #${args[0]}`)
  } else if (command === 'list') {
    const { tasks } = client.state
    if (tasks.length === 0) console.log('no tasks')
    for (const task of tasks) console.log(`#${task.id} [${task.done ? 'x' : ' '}] ${task.text}`)
  } else {
    throw new Error(`unknown command ${JSON.stringify(command)}: use add <text>, done <id>, list or stop`)
  }
}

main(...process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
