'use strict'

// `npm run bench [-- --node <line>] [--quick] [--rounds=<n>] [--only=<figure id>,…] [--against=<checkout>]`: every comparison side by side,
// on Node 26 unless `--node` names another line (the binaries scripts/node-line.sh installs). The
// servers run pinned to one CPU and this runner, the load generator, to the other (`taskset`); one
// server is under load at a time. Each figure measures its contenders round by round, each round on
// freshly started servers after a warm-up that is discarded; a ratio is taken within each round (A
// and B under the same conditions) and reported as the median of the rounds with its interquartile
// range. Writes this line's run into bench/results.json, then BENCHMARKS.md and bench/chart.svg
// (bench/report.js).
// BENCH_PROF=1 runs the servers with --cpu-prof (profiles in bench/profiles/).
const { spawn, spawnSync } = require('node:child_process')
const { existsSync, readFileSync, writeFileSync } = require('node:fs')
const os = require('node:os')
const { join, resolve } = require('node:path')
const { report } = require('./report')
const TARGETS = require('./targets')
const { LOAD_CPU, SERVER_CPU, cannotPin, start: startServer } = require('./server-process')
const { quantile, summary } = require('./stats')
const ws = require('./ws-client')

const option = (name) => {
  const at = process.argv.findIndex((arg) => arg === name || arg.startsWith(`${name}=`))
  if (at === -1) return undefined
  return process.argv[at].includes('=') ? process.argv[at].slice(name.length + 1) : process.argv[at + 1]
}
const quick = process.argv.includes('--quick')
const only = option('--only')?.split(',')
// More rounds narrow the interquartile ranges on a busy machine.
const ROUNDS = Number(option('--rounds') ?? (quick ? 3 : 7))
const SECONDS = quick ? 1 : 3
// A fresh server's CPU per handshake settles after about 4 s of load (Node 26: 240 µs in its first
// second, 92 from its fifth on).
const WARM_UP_SECONDS = quick ? 1 : 4
const IDLE_SOCKETS = quick ? 1000 : 5000
const RSS_ROUNDS = quick ? 1 : 3

/**
 * Runs this script again as the load generator: with the Node binary of the line asked for (26
 * by default), pinned to its CPU. The servers it starts run with the same binary.
 */
function relaunch () {
  const line = option('--node') ?? '26'
  const installed = join(process.env.NODE_LINES_CACHE ?? join(os.homedir(), '.cache', 'nodes'), line, 'node_modules', '.bin', 'node')
  let node = process.execPath
  if (process.versions.node.split('.')[0] !== line) {
    if (existsSync(installed)) node = installed
    else console.log(`Node ${line} is not installed at ${installed} (scripts/node-line.sh ${line} installs it): running on ${process.version}`)
  }
  const whyNot = cannotPin()
  if (whyNot !== undefined) console.log(`Not pinning servers and load generator to CPUs: ${whyNot}`)
  const [command, args] = whyNot === undefined ? ['taskset', ['-c', LOAD_CPU, node]] : [node, []]
  const child = spawn(command, [...args, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_NODE: node, BENCH_PINNED: whyNot === undefined ? '1' : '' }
  })
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal === null ? 1 : 128) })
}

const pinned = process.env.BENCH_PINNED === '1'
// `--against=<checkout>`: every plugin server (kind `upgrade…`) also runs on that checkout's build,
// as a contender of its own in the same rounds, for a paired before/after; nothing is written.
const against = option('--against') === undefined ? undefined : resolve(option('--against'))
/** The server of the same kind on the `--against` build, by server. */
const before = new Map()

const start = (kind) => startServer(kind, pinned)

/** Starts the servers a figure needs, runs it, and stops them whatever happens. */
async function withServers (kinds, body) {
  const servers = await Promise.all(kinds.map(start))
  if (against !== undefined) {
    await Promise.all(kinds.map(async (kind, i) => {
      if (kind.startsWith('upgrade')) before.set(servers[i], await startServer(kind, pinned, { BENCH_PACKAGE: against }))
    }))
  }
  try {
    return await body(...servers)
  } finally {
    await Promise.all([...servers, ...servers.map((server) => before.get(server))].filter(Boolean).map((server) => server.stop()))
    for (const server of servers) before.delete(server)
  }
}

/**
 * One sample of a contender: its rate and, when it names its `server`, the server's CPU time per
 * operation (µs), which other load on the machine moves much less than the rate.
 */
async function sample (contender, seconds) {
  const cpu = await contender.server?.cpu()
  const rate = await contender.measure(seconds, contender.server)
  return { rate, cpu: contender.server === undefined ? undefined : (await contender.server.cpu() - cpu) / (rate * seconds) }
}

/**
 * Measures every contender once per round, one at a time. Each round starts every server afresh and
 * warms it up (JIT, connection pools, first GCs) before it measures: what V8 compiles differs from
 * one process to the next, by more than a round's noise, so the rounds' spread has to show it.
 * Every other round runs in reverse order (A B, B A …), so that no contender always runs right after
 * another one's load. `warmUp` false: the contenders start their own servers.
 */
async function alternate (contenders, rounds = ROUNDS, warmUp = true) {
  contenders = contenders.flatMap((contender) => before.has(contender.server)
    ? [contender, { ...contender, name: `${contender.name} (before)`, server: before.get(contender.server) }]
    : [contender])
  const servers = new Set(contenders.map((contender) => contender.server).filter(Boolean))
  const samples = contenders.map(() => [])
  for (let round = 0; round < rounds; round++) {
    const order = [...contenders.keys()]
    if (round % 2 === 1) order.reverse()
    if (warmUp) {
      if (round > 0) await Promise.all([...servers].map((server) => server.restart()))
      for (const i of order) await contenders[i].measure(WARM_UP_SECONDS, contenders[i].server)
    }
    for (const i of order) samples[i].push(await sample(contenders[i], SECONDS))
  }
  return contenders.map((contender, i) => ({
    name: contender.name,
    samples: samples[i].map((s) => s.rate),
    cpu: contender.server === undefined ? undefined : samples[i].map((s) => s.cpu)
  }))
}

/** Bytes of `measure` (`rss` or `heapUsed`, after a full GC) per idle WebSocket, `count` open on a fresh server. */
function idleMemory (kind, measure = 'rss', count = IDLE_SOCKETS) {
  return withServers([kind], async (server) => {
    const before = await server.memory()
    const sockets = await ws.hold(server.port, '/up', count, 100)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const after = await server.memory()
    for (const socket of sockets) socket.destroy()
    return (after[measure] - before[measure]) / count
  })
}

const GROWTH_CLIENTS = [1, 50, 500]
const GROWTH_SOCKETS = [1000, 10000, 50000]

/**
 * How cost grows with load (issue 13, item 3), fastify-upgrade against raw ws: handshake latency
 * (p50, p99) at rising concurrency, after a warm-up, and RSS per idle WebSocket at rising counts,
 * as far as the descriptor limit allows (each side holds one per connection).
 */
async function growth () {
  // The plugin with its WebSocket adapter alone, as in the handshakes figure.
  const kinds = { 'fastify-upgrade': 'upgrade-websocket', ws: 'ws' }
  const rows = []
  await withServers(Object.values(kinds), async (...servers) => {
    for (const clients of GROWTH_CLIENTS) {
      const times = {}
      for (const [i, name] of Object.keys(kinds).entries()) {
        await ws.latencies(servers[i].port, '/up', clients, WARM_UP_SECONDS)
        times[name] = (await ws.latencies(servers[i].port, '/up', clients, SECONDS)).sort((a, b) => a - b)
      }
      for (const p of [0.5, 0.99]) {
        rows.push({ what: `handshake latency p${p * 100}, ${clients} concurrent`, unit: 'ms', values: Object.fromEntries(Object.entries(times).map(([name, sorted]) => [name, quantile(sorted, p)])) })
      }
    }
  })
  const limit = Number(spawnSync('sh', ['-c', 'ulimit -n']).stdout)
  for (const count of GROWTH_SOCKETS) {
    if (count + 1000 > limit) {
      console.log(`  RSS at ${count} idle WebSockets skipped: ulimit -n is ${limit}`)
      continue
    }
    const values = {}
    for (const [name, kind] of Object.entries(kinds)) values[name] = await idleMemory(kind, 'rss', count)
    rows.push({ what: `RSS per idle WebSocket, ${count.toLocaleString('en')} open`, unit: 'bytes', values })
  }
  for (const row of rows) console.log(`  ${row.what}: ${Object.entries(row.values).map(([name, value]) => `${name} ${format(value)}`).join(', ')}`)
  return rows
}

const figures = require('./figures')({ withServers, alternate, idleMemory, IDLE_SOCKETS, RSS_ROUNDS })

/** met / missed when the whole interquartile range is on one side of the target, else straddles; null: reported only. */
function verdict (target, { q1, q3 }) {
  if (target.report) return null
  if (target.min !== undefined) return q1 >= target.min ? 'met' : q3 < target.min ? 'missed' : 'straddles'
  return q3 <= target.max ? 'met' : q1 > target.max ? 'missed' : 'straddles'
}

const format = (n) => n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2)

async function main () {
  const started = Date.now()
  console.log(`Node ${process.version}, ${quick ? 'quick' : 'full'} mode; ${pinned ? `servers on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU}` : 'not pinned'}`)
  const results = []
  for (const figure of figures) {
    if (only !== undefined && !only.includes(figure.id)) continue
    console.log(`\n${figure.title}`)
    const contenders = (await figure.run()).map((contender) => ({
      ...contender,
      ...summary(contender.samples),
      cpuPerOp: contender.cpu === undefined ? undefined : summary(contender.cpu)
    }))
    for (const c of contenders) {
      const cpu = c.cpuPerOp === undefined ? '' : `; server CPU ${c.cpuPerOp.median.toFixed(1)} µs per op`
      console.log(`  ${c.name.padEnd(34)} median ${format(c.median)} ${figure.unit} (IQR ${format(c.q1)} – ${format(c.q3)})${cpu}`)
    }
    const ratios = TARGETS[figure.id].map((target) => {
      const of = contenders.find((c) => c.name === target.of)
      const to = contenders.find((c) => c.name === target.to)
      if (target.cpuOver !== undefined) {
        // Paired: each round's A CPU per op less the same round's B's, in µs.
        const values = of.cpu.map((cpu, round) => cpu - to.cpu[round])
        const over = { ...target, values, ...summary(values) }
        over.verdict = verdict({ max: target.cpuOver }, over)
        console.log(`  server CPU per op, ${target.of} over ${target.to}: ${over.median.toFixed(1)} µs (IQR ${over.q1.toFixed(1)} – ${over.q3.toFixed(1)}), target ≤ ${target.cpuOver} µs: ${over.verdict}`)
        return over
      }
      // Paired: each round's A over the same round's B.
      const values = of.samples.map((sample, round) => sample / to.samples[round])
      const ratio = { ...target, values, ...summary(values) }
      // The same comparison by server CPU per operation (B's over A's: higher is better, as for rates),
      // which the targets are judged by: other load on the machine moves it less than the rates.
      if (of.cpu !== undefined && to.cpu !== undefined) ratio.byCpu = summary(of.cpu.map((cpu, round) => to.cpu[round] / cpu))
      ratio.verdict = verdict(target, ratio.byCpu ?? ratio)
      const said = { met: ' (target met)', missed: ' (TARGET MISSED)', straddles: ' (range straddles the target)' }[ratio.verdict] ?? ''
      const byCpu = ratio.byCpu === undefined ? '' : `; by server CPU per op ${ratio.byCpu.median.toFixed(3)} (IQR ${ratio.byCpu.q1.toFixed(3)} – ${ratio.byCpu.q3.toFixed(3)})`
      console.log(`  ratio ${target.of} / ${target.to}: ${ratio.median.toFixed(3)} (IQR ${ratio.q1.toFixed(3)} – ${ratio.q3.toFixed(3)})${said}${byCpu}`)
      return ratio
    })
    for (const then of contenders.filter((c) => c.name.endsWith(' (before)'))) {
      const now = contenders.find((c) => `${c.name} (before)` === then.name)
      const rate = summary(now.samples.map((sample, round) => sample / then.samples[round]))
      const cpu = summary(now.cpu.map((value, round) => then.cpu[round] / value))
      console.log(`  ${now.name}, this build / ${against}: ${rate.median.toFixed(3)} (IQR ${rate.q1.toFixed(3)} – ${rate.q3.toFixed(3)}); by server CPU per op ${cpu.median.toFixed(3)} (IQR ${cpu.q1.toFixed(3)} – ${cpu.q3.toFixed(3)})`)
    }
    results.push({ id: figure.id, title: figure.title, unit: figure.unit, lowerIsBetter: figure.lowerIsBetter === true, contenders, ratios })
  }
  let grown
  if ((only === undefined && against === undefined) || only?.includes('growth')) {
    console.log('\nHow cost grows')
    grown = await growth()
  }
  const run = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    pinned: pinned ? { servers: SERVER_CPU, load: LOAD_CPU } : false,
    mode: quick ? 'quick' : 'full',
    rounds: ROUNDS,
    seconds: SECONDS,
    warmUpSeconds: WARM_UP_SECONDS,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    figures: results,
    growth: grown
  }
  if (only !== undefined || against !== undefined) {
    console.log(`\n${only === undefined ? '--against' : '--only'}: results.json and BENCHMARKS.md left as they were`)
    return
  }
  // One run per Node line; this one replaces the line's previous run.
  const file = join(__dirname, 'results.json')
  const line = (version) => version.split('.')[0]
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).runs ?? [] : []
  const runs = [...previous.filter((other) => line(other.node) !== line(run.node)), run].sort((a, b) => line(b.node).localeCompare(line(a.node), 'en', { numeric: true }))
  writeFileSync(file, JSON.stringify({ runs }, null, 2) + '\n')
  report({ runs })
  console.log(`\n${run.durationSeconds} s; wrote bench/results.json, bench/chart.svg, BENCHMARKS.md`)
}

if (process.env.BENCH_NODE === undefined) {
  relaunch()
} else {
  main().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
