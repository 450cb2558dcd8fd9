// The harness side of a worker process: start it, wait for its ready line, send it requests and
// read their results. Every process started here is recorded, so that whatever way the harness
// ends (done, an error, Ctrl-C) `killAllWorkers` can end those still running.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** A worker process started by {@link startWorker}. */
export interface Worker {
  readonly name: string
  readonly child: ChildProcess
  /** The worker's `ready` event, with whatever it reported there. */
  readonly ready: Promise<Record<string, unknown>>
  /** Sends a request and resolves with its result; rejects if the worker fails it or exits. */
  request<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>
  /** Closes the worker's stdin (it then closes what it opened and exits) and waits for its exit. */
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
let nodeFlags: string[] = []

/** Node flags for every worker started from now on (say `--cpu-prof`). */
export function setWorkerNodeFlags(flags: readonly string[]): void {
  nodeFlags = [...flags]
}
const STOP_GRACE_MS = 15_000
const READY_TIMEOUT_MS = 300_000

/**
 * Starts `script` (a module of ./workers) as its own Node process with `config` as JSON in its
 * first argument. From TypeScript sources it runs through tsx, from the build with plain node.
 */
export function startWorker(name: string, script: string, config: unknown): Worker {
  const source = import.meta.url.endsWith('.ts')
  const file = new URL(`../workers/${script}.${source ? 'ts' : 'js'}`, import.meta.url)
  const loader = source ? ['--import', 'tsx'] : []
  const child = spawn(process.execPath, [...nodeFlags, ...loader, file.pathname, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  live.add(child)
  const output: string[] = []
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let nextTag = 1
  let onReady: (details: Record<string, unknown>) => void = () => {}
  let onFail: (error: Error) => void = () => {}
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    onReady = resolve
    onFail = reject
  })
  ready.catch(() => {}) // observed by whoever awaits it; an exit before ready must not go unhandled
  // Not a wait for readiness: a bound on how long a start may take before the run gives up.
  const readyTimer = setTimeout(() => {
    onFail(new Error(`${name} did not get ready within ${READY_TIMEOUT_MS} ms:\n${output.slice(-20).join('\n')}`))
    child.kill('SIGKILL')
  }, READY_TIMEOUT_MS)
  void ready.then(
    () => clearTimeout(readyTimer),
    () => clearTimeout(readyTimer),
  )
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child)
      const error = new Error(`${name} exited (${code ?? signal}):\n${output.slice(-20).join('\n')}`)
      onFail(error)
      for (const waiter of pending.values()) waiter.reject(error)
      pending.clear()
      resolve()
    })
  })
  child.stdin!.on('error', () => {}) // a worker that already exited: its exit reports it
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: { event?: unknown; tag?: number; result?: unknown; error?: string }
    try {
      message = JSON.parse(line)
    } catch {
      output.push(line)
      return
    }
    if (message.event === 'ready') onReady(message as Record<string, unknown>)
    else if (message.event === 'result' && typeof message.tag === 'number') {
      const waiter = pending.get(message.tag)
      pending.delete(message.tag)
      if (message.error !== undefined) waiter?.reject(new Error(`${name}: ${message.error}`))
      else waiter?.resolve(message.result)
    } else output.push(line)
  })
  return {
    name,
    child,
    ready,
    request<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
      if (!live.has(child)) return Promise.reject(new Error(`${name} is not running`))
      const tag = nextTag++
      const answer = new Promise<T>((resolve, reject) => pending.set(tag, { resolve: resolve as (v: unknown) => void, reject }))
      child.stdin!.write(`${JSON.stringify({ ...args, tag, cmd })}\n`)
      return answer
    },
    async stop() {
      if (!live.has(child)) return
      child.stdin!.end()
      // A worker that does not finish closing in time is killed: the run must end either way.
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Kills every worker still running, at once. Safe to call from an `exit` handler. */
export function killAllWorkers(): void {
  for (const child of live) child.kill('SIGKILL')
}
