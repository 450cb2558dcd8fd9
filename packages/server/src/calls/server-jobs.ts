// What the server process runs itself in the one total order, beside clients' calls: its own action calls and the presence hooks.
import { type ActionFunction, ErrorCode, type IpcStateError, type Logger, toIpcStateError } from '@ipc-state/protocol'
import type { CommitPipeline } from './commit-pipeline.js'
import type { FanOut } from '../connections/fan-out.js'
import type { Session } from '../connections/session.js'
import type { ServerMetrics } from '../metrics/server-metrics.js'
import type { PresenceMark } from '../storage/storage.js'
import type { AppliedAction, StoreRuntime } from '../state/store-runtime.js'

/**
 * Who a call of the server process itself is, to its action (`context`) and to replicas
 * (`ChangeInfo.clientId`): no client can say hello with an empty id. Its changes are stored with
 * the instance `''`, as changes no client made are.
 */
export const SERVER_CALLER = { clientId: '', instanceId: '' } as const

/** A call the server process made itself (`server.actions`): answered through its promise. */
export interface ServerJob {
  session: undefined
  action: string
  resolve(value: unknown): void
  reject(error: IpcStateError): void
  /** When the call was made, on the metrics' clock (0 without metrics). */
  at: number
}

/** A presence hook that is due once it reaches its turn: what it runs and what it marks. */
export interface DueHook {
  /** `onClientJoin` or `onClientLeave`: what replicas see as the change's action. */
  name: string
  /** The store's hook, `undefined` when the store has none: the change then only carries the mark. */
  hook: ActionFunction<never> | undefined
  /** The hook's second argument. */
  event: unknown
  mark: PresenceMark
}

/** A join or a leave, queued to run its hook in the total order (see `presence/presence.ts`). */
export interface HookJob {
  session: undefined
  action: undefined
  /** Decides at its turn, against every change before it: `undefined` when it is no longer due. */
  due(): DueHook | undefined
  /** The change that records `mark` was applied to the working state. */
  applied(mark: PresenceMark): void
  /** The change that records `mark` is durable and sent to replicas. */
  committed(mark: PresenceMark): void
  /** Its change could not be stored. */
  failed(error: IpcStateError): void
}

/** What running the server's own jobs needs from the action calls that queue them. */
export interface ServerJobContext<S extends object> {
  runtime: StoreRuntime<S>
  fanOut: FanOut<Session>
  pipeline: CommitPipeline
  logger: Logger
  metrics?: ServerMetrics | undefined
  /** Queues `job` again: another server wrote first, so it runs again on top of that change. */
  requeue(job: ServerJob | HookJob, input: unknown): void
  /** A change was published. */
  changed(): void
}

/** Publishes a durable change of the server's own to every replica. */
function publish<S extends object>(context: ServerJobContext<S>, applied: AppliedAction, action: string): void {
  context.runtime.publish(applied)
  context.changed()
  context.fanOut.publish(context.runtime.epoch, applied.version, applied.patchesJson, action, SERVER_CALLER.clientId)
}

/** Runs a call of the server process, `input` checked already, and settles its promise once its change is durable. */
export function runServerJob<S extends object>(context: ServerJobContext<S>, job: ServerJob, input: unknown): void {
  const { runtime, pipeline, metrics } = context
  const { action, at } = job
  const rerun = () => context.requeue(job, input)
  // Wrapped only to be measured: without metrics, a call allocates nothing more.
  const rejected =
    metrics === undefined
      ? job.reject
      : (error: IpcStateError) => {
          metrics.called(action, error.code, at)
          job.reject(error)
        }
  const resolved =
    metrics === undefined
      ? job.resolve
      : (value: unknown) => {
          metrics.called(action, 'ok', at)
          job.resolve(value)
        }
  let applied: AppliedAction
  try {
    applied = runtime.apply(action, input, SERVER_CALLER)
  } catch (error) {
    const failure = toIpcStateError(error, ErrorCode.ACTION_FAILED)
    pipeline.add(undefined, () => rejected(failure), rejected, rerun)
    return
  }
  const value = applied.valueJson === undefined ? undefined : JSON.parse(applied.valueJson)
  if (applied.patches.length === 0) {
    pipeline.add(undefined, () => resolved(value), rejected, rerun)
    return
  }
  const { version, patchesJson, valueJson } = applied
  const { clientId, instanceId } = SERVER_CALLER
  pipeline.add(
    { kind: 'change', version, patchesJson, instanceId, id: 0, valueJson, action, clientId },
    () => {
      publish(context, applied, action)
      resolved(value)
    },
    rejected,
    rerun,
  )
}

/** Runs a presence hook that is still due, and stores its change with the join or leave it marks. */
export function runHookJob<S extends object>(context: ServerJobContext<S>, job: HookJob): void {
  const { runtime, pipeline, logger } = context
  const due = job.due()
  if (due === undefined) return
  const { name, event, mark } = due
  let applied: AppliedAction
  try {
    applied = runtime.applyHook(name, due.hook as ActionFunction<S> | undefined, event)
  } catch (error) {
    // The join or leave happened all the same: it is recorded without the hook's change, so a
    // hook that throws can neither keep a gone process present nor run twice.
    logger.error?.(`${name} failed: its change was dropped, the ${'left' in mark ? 'leave' : 'join'} is recorded`, {
      error: toIpcStateError(error).message,
    })
    applied = runtime.applyHook(name, undefined, event)
  }
  job.applied(mark)
  const { version, patchesJson } = applied
  const { clientId, instanceId } = SERVER_CALLER
  const presenceJson = JSON.stringify(mark)
  pipeline.add(
    { kind: 'change', version, patchesJson, instanceId, id: 0, valueJson: undefined, action: name, clientId, presenceJson },
    () => {
      publish(context, applied, name)
      job.committed(mark)
    },
    (error) => job.failed(error),
    () => context.requeue(job, undefined),
  )
}
