// `pnpm bench`: parses the command line, runs the scenarios, prints the table and writes
// results/latest.json and results/latest.svg. Whatever ends the run (its end, an error, Ctrl-C),
// every process it started is ended and its temporary folder removed.
import { fileURLToPath } from 'node:url'
import { helpText, parseOptions } from './cli.js'
import { killAllRedis } from './processes/redis-server.js'
import { writeResults } from './report/results-file.js'
import { runBench } from './run-bench.js'
import { formatTable } from './report/table.js'
import { createTempFolder } from './processes/temp-folder.js'
import { killAllWorkers, setWorkerNodeFlags } from './processes/worker-process.js'

const defaultOut = fileURLToPath(new URL('../results', import.meta.url))
let options: ReturnType<typeof parseOptions>
try {
  options = parseOptions(process.argv.slice(2), defaultOut)
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${helpText()}`)
  process.exit(2)
}
if (options === undefined) {
  console.log(helpText())
  process.exit(0)
}

if (options.cpuProf !== undefined) setWorkerNodeFlags(['--cpu-prof', '--cpu-prof-dir', options.cpuProf])
const temp = createTempFolder()
const cleanUp = () => {
  killAllWorkers()
  killAllRedis()
  temp.remove()
}
process.on('exit', cleanUp)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: ending every process of the run and removing ${temp.path}`)
    process.exit(130)
  })
}

const report = await runBench(options, temp, (line) => console.log(line))
console.log(`\n${formatTable(report.rows)}\n`)
console.log('Each figure: median (min–max) of the samples; "vs Redis": times better than Redis (below 1: worse).')
const files = writeResults(options.out, report)
console.log(`Took ${report.seconds.toFixed(0)} s. Wrote ${files.json} and ${files.svg}`)
const failed = report.scenarios.filter((scenario) => scenario.error !== undefined)
if (failed.length > 0) {
  console.error(`Failed: ${failed.map((scenario) => scenario.id).join(', ')}`)
  process.exitCode = 1
}
