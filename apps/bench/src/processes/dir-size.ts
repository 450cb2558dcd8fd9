// The bytes of the files in a folder, for the bytes-written-per-change figures.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Sum of the sizes of the files in `dir` and its subfolders; 0 when it does not exist. */
export function dirSize(dir: string): number {
  let total = 0
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += dirSize(path)
    else if (entry.isFile()) total += statSync(path).size
  }
  return total
}
