'use strict'

// `npm run fuzz -- [--cases 100000] [--seed N] [--only i,j] [--concurrency 24]`: the long
// fuzz run on the build; prints its seed, its figures and every violation (exit code 1 if any).
const { execFileSync } = require('node:child_process')
const { mkdtempSync, readFileSync, rmSync } = require('node:fs')
const os = require('node:os')
const { join } = require('node:path')
const { parseArgs } = require('node:util')
const fastifyUpgrade = require('../dist/index.js')
const { fuzz } = require('./fuzz/run')

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '24' }
  }
})

/** A throw-away self-signed certificate: the fuzzer's TLS clients never verify it. */
function certificate () {
  const dir = mkdtempSync(join(os.tmpdir(), 'fastify-upgrade-fuzz-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main () {
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
  const cases = Number(values.cases)
  const only = values.only?.split(',').map(Number)
  console.log(`fuzz: Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model}, seed ${seed}, ${only?.length ?? cases} cases`)
  console.log(`reproduce: npm run fuzz -- --cases ${cases} --seed ${seed}`)
  const { figures, violations } = await fuzz({
    fastifyUpgrade,
    certificate: certificate(),
    cases,
    seed,
    only,
    concurrency: Number(values.concurrency),
    progress: (f, found) => { if (f.cases % 10000 === 0) console.log(`  ${f.cases} cases, ${found.length} violations so far`) }
  })
  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`
  console.log(`${figures.cases} cases in ${figures.seconds.toFixed(1)} s (${figures.casesPerSecond}/s); ${figures.switched} switched (101)`)
  console.log(`answered ${figures.answered}, closed without an answer ${figures.closedUnanswered}, closed after the client's FIN ${figures.closedAfterFin}`)
  console.log(`max time to answer ${figures.maxAnswerMs.toFixed(0)} ms, max time to close after FIN ${figures.maxCloseAfterFinMs.toFixed(0)} ms`)
  console.log(`heap: ${mb(figures.heapBase)} before the server, ${mb(figures.heapBefore)} after the first 1000 cases, ${mb(figures.heapAfter)} after the last, ${mb(figures.heapEnd)} after close`)
  const problems = {}
  for (const v of violations) problems[v.problem] = (problems[v.problem] ?? 0) + 1
  console.log(`violations: ${violations.length}${violations.length === 0 ? '' : ' ' + JSON.stringify(problems)}`)
  // Each kind of violation, a few of each.
  for (const kind of Object.keys(problems)) for (const v of violations.filter((v) => v.problem === kind).slice(0, 3)) console.log(JSON.stringify(v))
  const indexes = violations.filter((v) => v.index !== undefined).slice(0, 10).map((v) => v.index)
  if (indexes.length > 0) console.log(`some cases alone: npm run fuzz -- --seed ${seed} --only ${indexes.join(',')}`)
  process.exitCode = violations.length === 0 ? 0 : 1
}

main()
