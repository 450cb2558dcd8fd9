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
  // A snapshot whose body parses but lacks a field (an instance without `answers`, say) fails the
  // start with a raw TypeError instead of STORE_DAMAGED.
  'snapshots: a server on a snapshot rewritten with its checksum right serves plain JSON it keeps, or refuses with STORE_DAMAGED; never another error, never a hang',
  // A snapshot's state is not checked against the store's shape, nor its version's sign: `list: {}`
  // is served, and the journal's array patches then write numbered keys into the object.
  "snapshots: a server serves only a state of the store's shape at a version of 0 or more, or refuses with STORE_DAMAGED",
  // Replay applies a change that sets an array's length whatever the number: 2^31 fails the start
  // with a raw RangeError (Invalid string length), a smaller growth serves an array with holes.
  "journal segments: a server on a last change that sets an array's length to any number serves plain JSON with no hole, or refuses with STORE_DAMAGED",
  // A length past the end of the file with its checksum right is taken for a torn last record: the
  // whole records after it are cut off and the server starts.
  'journal segments: a record length past the end of the file, with its checksum right, before other records is STORE_DAMAGED, never a torn tail',
])
