// Starting one side's client processes, stopped when the scenario ends.
import type { BenchContext } from '../scenario.js'
import type { Address } from '../workers/configs.js'
import { startWorker, type Worker } from './worker-process.js'

/** Client processes of one side, asked together. */
export interface ClientGroup {
  readonly workers: readonly Worker[]
  /** Sends the same request to every process at once and resolves with their results in order. */
  all<T>(cmd: string, args?: Record<string, unknown>): Promise<T[]>
}

/**
 * Starts `count` client processes connected to `address`. `replica` applies to ipc-state
 * clients, whose default it is.
 */
export async function startClients(
  context: BenchContext,
  address: Address,
  count: number,
  options: { replica?: boolean } = {},
): Promise<ClientGroup> {
  const workers = Array.from({ length: count }, () => {
    const worker = startWorker(context.uniqueName(`${address.kind}-client`), 'client', {
      address,
      replica: options.replica ?? true,
    })
    context.defer(() => worker.stop())
    return worker
  })
  await Promise.all(workers.map((worker) => worker.ready))
  return {
    workers,
    all: <T>(cmd: string, args: Record<string, unknown> = {}) => Promise.all(workers.map((worker) => worker.request<T>(cmd, args))),
  }
}
