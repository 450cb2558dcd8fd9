// The properties that fail on the code as it is, each with the finding it shows. Empty once fixed.

/**
 * Names of properties skipped in the default run because they fail today. Run them anyway with
 * `IPC_STATE_FUZZ_ALL=1`; remove a name once its finding is fixed, so CI keeps it fixed.
 */
export const knownFailing: ReadonlySet<string> = new Set<string>([
  // A bare binary header (`00 00 00 00 51`: a body of 81 bytes announced, none sent) is never
  // closed by frameTimeout: the deadline starts with the first body byte.
  'deadlines: a binary frame left unfinished after the hello, its header included, is closed by frameTimeout',
  // msgpackr's reference extension is on in the decoder: a DAG decodes with shared nodes, and a
  // body of ~100 bytes is walked as 2^depth nodes.
  'binary frames: a body of msgpackr references (a DAG) is refused or decodes to a plain JSON tree no larger than the body',
])
