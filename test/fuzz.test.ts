import t, { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { fuzz } from '../scripts/fuzz/run'
import { certificate } from './tls-helpers'

// The CI slice of the fuzzer (scripts/fuzz/; the long run is `npm run fuzz`). A random seed per run,
// in the test's name; FUZZ_SEED=<seed> replays it here, and `npm run fuzz -- --seed <seed> --cases
// 5000` replays the same cases on the build.
const seed = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED)
const CASES = Number(process.env.FUZZ_CASES ?? 5000)
// 5000 cases take about 8 s alone, and over 30 s (tap's default) on a loaded 2-core machine.
t.setTimeout(120000)

test(`S7, U8: ${CASES} fuzzed requests on every adapter keep every invariant (seed ${seed})`, async (t) => {
  const { figures, violations } = await fuzz({ fastifyUpgrade, certificate: certificate(), cases: CASES, seed })
  t.comment(`seed ${seed}: ${figures.cases} cases, ${figures.casesPerSecond}/s, ${figures.switched} switched, ` +
    `max ${Math.round(figures.maxAnswerMs)} ms to answer, heap ${(figures.heapBefore / 2 ** 20).toFixed(1)} → ${(figures.heapAfter / 2 ** 20).toFixed(1)} MB`)
  t.same(violations.slice(0, 10), [], `no violation (replay: FUZZ_SEED=${seed})`)
  t.equal(figures.cases, CASES)
  t.ok(figures.switched > 0, 'some cases switched protocols')
})
