// The options of `fileStorage`, checked and given their defaults.
import { resolve } from 'node:path'
import { numberOption } from '@ipc-state/protocol'

/** How a `fileStorage` makes changes durable before a call is answered. */
export type FsyncMode = 'always' | 'interval' | 'off'

/** Options for `fileStorage`. */
export interface FileStorageOptions {
  /**
   * The data folder; created (mode 0700) when missing. One server at a time may own it. Refused when
   * it is a symbolic link, is not this user's alone, or lies under a folder others could swap it in.
   */
  dir: string
  /**
   * - `always`: a call is answered once its change is flushed to the disk; the changes made in one
   *   turn of the event loop share one flush. Nothing answered is lost, even when the machine fails.
   * - `interval`: a call is answered once its change is written to the file; the file is flushed
   *   every `fsyncInterval`. A crash of the server loses nothing answered; a crash of the machine
   *   may lose the last interval's changes (clients that saw them are then reset).
   * - `off`: as `interval`, but the operating system decides when to flush.
   * @default 'interval'
   */
  fsync?: FsyncMode
  /**
   * How often, in milliseconds, `interval` flushes the journal.
   * @default 1000
   */
  fsyncInterval?: number
  /**
   * Journal bytes written since the last snapshot after which a new snapshot of the whole store is
   * written and the older journal deleted, so the folder stays about this size plus the state's.
   * @default 64 MiB
   */
  compactBytes?: number
}

/** {@link FileStorageOptions} checked, with every default filled in. */
export interface FileStorageSettings {
  /** The data folder, as an absolute path. */
  dir: string
  fsync: FsyncMode
  fsyncInterval: number
  compactBytes: number
}

/**
 * Checks `options` and fills in the defaults.
 * @throws TypeError naming the option that is invalid
 */
export function parseFileStorageOptions(options: FileStorageOptions): FileStorageSettings {
  if (typeof options?.dir !== 'string' || options.dir === '') throw new TypeError('fileStorage: dir must be a folder path')
  const fsync = options.fsync ?? 'interval'
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'off') {
    throw new TypeError(`fileStorage: fsync must be 'always', 'interval' or 'off', not ${JSON.stringify(fsync)}`)
  }
  return {
    dir: resolve(options.dir),
    fsync,
    fsyncInterval: numberOption('fsyncInterval', options.fsyncInterval, { fallback: 1_000, min: 1 }),
    compactBytes: numberOption('compactBytes', options.compactBytes, { fallback: 64 * 1024 * 1024, min: 1 }),
  }
}
