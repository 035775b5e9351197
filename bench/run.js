'use strict'

// `npm run bench [-- --quick] [-- --only=<figure id>,…]`: every comparison side by side, contenders
// alternated round by round, servers in their own processes; writes bench/results.json, then
// BENCHMARKS.md and bench/chart.svg (bench/report.js). BENCH_PROF=1 runs the servers with --cpu-prof.
const { execFile, fork } = require('node:child_process')
const { writeFileSync } = require('node:fs')
const os = require('node:os')
const { join } = require('node:path')
const { promisify } = require('node:util')
const autocannon = require('autocannon')
const { Connection } = require('./h2-client')
const { report } = require('./report')
const ws = require('./ws-client')

const quick = process.argv.includes('--quick')
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice(7).split(',')
// Full: 5 rounds of 5 s per contender for the HTTP/1.1 rows, 4 s elsewhere.
const ROUNDS = quick ? 2 : 5
const SECONDS = quick ? 2 : 4
const HTTP_SECONDS = quick ? 1.5 : 5
const IDLE_SOCKETS = quick ? 1000 : 5000
const RSS_ROUNDS = quick ? 1 : 3

function start (kind) {
  const execArgv = ['--expose-gc']
  if (process.env.BENCH_PROF) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(__dirname, 'profiles')}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`)
  const child = fork(join(__dirname, 'server.js'), [kind], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const answer = () => new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => { reject(new Error(`server ${kind} exited with ${code}`)) })
  })
  return answer().then(({ port }) => ({
    port,
    async rss () {
      child.send('rss')
      return (await answer()).rss
    },
    stop () {
      return new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGINT')
      })
    }
  }))
}

/** Starts the servers a figure needs, runs it, and stops them whatever happens. */
async function withServers (kinds, body) {
  const servers = await Promise.all(kinds.map(start))
  try {
    return await body(...servers)
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
  }
}

/**
 * Each round measures every contender once, so noise hits all of them alike; every other round in
 * reverse order (A B, B A, A B …), so that no contender always runs first, right after a warm-up or
 * another contender's load.
 */
async function alternate (contenders, rounds = ROUNDS) {
  const samples = contenders.map(() => [])
  for (let round = 0; round < rounds; round++) {
    const order = [...contenders.keys()]
    if (round % 2 === 1) order.reverse()
    for (const i of order) samples[i].push(await contenders[i].measure())
  }
  return contenders.map((contender, i) => ({ name: contender.name, samples: samples[i] }))
}

/** HTTP/1.1 requests per second with autocannon; any error or non-2xx answer fails the run. */
async function requests (port, path, headers = {}) {
  const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, headers, connections: 50, duration: HTTP_SECONDS })
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`autocannon ${path}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`)
  }
  return result.requests.total / (result.duration)
}

/** h2load over prior knowledge, 10 connections × 10 streams. */
async function h2load (port, path) {
  const { stdout } = await promisify(execFile)('h2load', ['-c', '10', '-m', '10', '-D', String(SECONDS), `http://127.0.0.1:${port}${path}`])
  const rate = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)
  const failed = /requests: .* (\d+) failed, (\d+) errored/.exec(stdout)
  if (rate === null || failed === null || failed[1] !== '0' || failed[2] !== '0') throw new Error(`h2load: ${stdout}`)
  return Number(rate[1])
}

/** HTTP/2 GETs per second from our own client, 10 connections × 10 streams, opened by upgrade or prior knowledge. */
async function h2requests (port, path, upgrade) {
  const connections = Array.from({ length: 10 }, () => new Connection(port, path, upgrade))
  await Promise.all(connections.map((connection) => connection.open))
  const rate = await ws.loop(100, SECONDS, (() => {
    let next = 0
    return () => connections[next++ % connections.length].get()
  })())
  for (const connection of connections) connection.close()
  return rate
}

/** New connections per second, 20 at a time: each makes one request (h2c: by upgrade) and closes. */
function connectionRate (port, path, h2c) {
  return ws.loop(20, SECONDS, async () => {
    if (h2c) {
      const connection = new Connection(port, path, true)
      await connection.open
      connection.close()
      return
    }
    const socket = ws.connect(port)
    await new Promise((resolve, reject) => {
      socket.on('error', reject)
      socket.on('close', () => { reject(new Error('connection closed')) })
      socket.on('data', resolve)
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
    })
    socket.destroy()
  })
}

/** Server RSS per open idle WebSocket: a fresh server per sample, measured after a GC. */
function idleMemory (kind) {
  return withServers([kind], async (server) => {
    const before = await server.rss()
    const sockets = await ws.hold(server.port, '/up', IDLE_SOCKETS, 100)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const after = await server.rss()
    for (const socket of sockets) socket.destroy()
    return (after - before) / IDLE_SOCKETS
  })
}

const UPGRADE_HEADERS = { connection: 'upgrade', upgrade: 'example/1' }

const figures = [
  {
    id: 'plain',
    title: 'req/s, route without upgrade, plugin registered',
    unit: 'req/s',
    targets: [{ of: 'fastify-upgrade', to: 'fastify', min: 0.97 }],
    run: () => withServers(['upgrade', 'fastify'], (upgrade, fastify) => alternate([
      { name: 'fastify-upgrade', measure: () => requests(upgrade.port, '/plain') },
      { name: 'fastify', measure: () => requests(fastify.port, '/plain') }
    ]))
  },
  {
    id: 'upgrade-route',
    title: 'req/s, plain GET to a route that has upgrade',
    unit: 'req/s',
    targets: [{ of: 'fastify-upgrade', to: 'fastify', min: 0.97 }],
    run: () => withServers(['upgrade', 'fastify'], (upgrade, fastify) => alternate([
      { name: 'fastify-upgrade', measure: () => requests(upgrade.port, '/up') },
      { name: 'fastify', measure: () => requests(fastify.port, '/up') }
    ]))
  },
  {
    id: 'declined',
    title: 'req/s, declined upgrade requests (Upgrade: example/1, served as HTTP)',
    unit: 'req/s',
    targets: [
      { of: 'declined', to: 'plain', report: true },
      { of: 'declined, all on the upgrade path', to: 'plain', report: true }
    ],
    run: () => withServers(['upgrade', 'upgrade-path'], (upgrade, path) => alternate([
      { name: 'declined', measure: () => requests(upgrade.port, '/up', UPGRADE_HEADERS) },
      { name: 'declined, all on the upgrade path', measure: () => requests(path.port, '/up', UPGRADE_HEADERS) },
      { name: 'plain', measure: () => requests(upgrade.port, '/up') }
    ]))
  },
  {
    id: 'handshakes',
    title: 'WebSocket handshakes/s, 50 concurrent',
    unit: 'handshakes/s',
    targets: [
      { of: 'fastify-upgrade', to: '@fastify/websocket', min: 1 },
      { of: 'fastify-upgrade', to: 'ws', min: 0.85 },
      { of: 'fastify-upgrade + h2c', to: 'fastify-upgrade', report: true }
    ],
    run: () => withServers(['upgrade-websocket', 'upgrade', 'fastify-websocket', 'ws'], (upgrade, both, fws, raw) => alternate([
      { name: 'fastify-upgrade', measure: () => ws.handshakes(upgrade.port, '/up', 50, SECONDS) },
      { name: 'fastify-upgrade + h2c', measure: () => ws.handshakes(both.port, '/up', 50, SECONDS) },
      { name: '@fastify/websocket', measure: () => ws.handshakes(fws.port, '/up', 50, SECONDS) },
      { name: 'ws', measure: () => ws.handshakes(raw.port, '/up', 50, SECONDS) }
    ]))
  },
  ...[64, 16384].map((size) => ({
    id: `echo-${size}`,
    title: `WebSocket echo messages/s, ${size === 64 ? '64 B' : '16 KiB'}, 20 connections`,
    unit: 'messages/s',
    targets: [{ of: 'fastify-upgrade', to: 'ws', min: 0.97 }],
    run: () => withServers(['upgrade', 'ws'], (upgrade, raw) => alternate([
      { name: 'fastify-upgrade', measure: () => ws.echo(upgrade.port, '/up', size, 20, SECONDS) },
      { name: 'ws', measure: () => ws.echo(raw.port, '/up', size, 20, SECONDS) }
    ]))
  })),
  {
    id: 'idle-rss',
    title: `server RSS per idle WebSocket, ${IDLE_SOCKETS} open`,
    unit: 'bytes',
    lowerIsBetter: true,
    targets: [{ of: 'fastify-upgrade', to: 'ws', max: 1.1 }],
    run: () => alternate([
      { name: 'fastify-upgrade', measure: () => idleMemory('upgrade') },
      { name: 'ws', measure: () => idleMemory('ws') }
    ], RSS_ROUNDS)
  },
  {
    id: 'h2-prior',
    title: 'HTTP/2 req/s over h2c prior knowledge (h2load, 10 connections × 10 streams)',
    unit: 'req/s',
    targets: [{ of: 'fastify-upgrade', to: 'fastify http2', min: 0.9 }],
    run: () => withServers(['upgrade', 'fastify-http2'], (upgrade, http2) => alternate([
      { name: 'fastify-upgrade', measure: () => h2load(upgrade.port, '/up') },
      { name: 'fastify http2', measure: () => h2load(http2.port, '/up') }
    ]))
  },
  {
    id: 'h2-upgraded',
    title: 'HTTP/2 req/s over upgraded h2c connections (own client, 10 connections × 10 streams)',
    unit: 'req/s',
    targets: [{ of: 'fastify-upgrade (upgraded)', to: 'fastify http2 (prior knowledge)', min: 0.9 }],
    run: () => withServers(['upgrade', 'fastify-http2'], (upgrade, http2) => alternate([
      { name: 'fastify-upgrade (upgraded)', measure: () => h2requests(upgrade.port, '/up', true) },
      { name: 'fastify http2 (prior knowledge)', measure: () => h2requests(http2.port, '/up', false) }
    ]))
  },
  {
    id: 'h2c-connections',
    title: 'new connections/s, one request each: upgrade to h2c vs HTTP/1.1',
    unit: 'connections/s',
    targets: [{ of: 'h2c upgrade', to: 'HTTP/1.1', report: true }],
    run: () => withServers(['upgrade'], (upgrade) => alternate([
      { name: 'h2c upgrade', measure: () => connectionRate(upgrade.port, '/up', true) },
      { name: 'HTTP/1.1', measure: () => connectionRate(upgrade.port, '/up', false) }
    ]))
  }
]

function summary (samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  return { median, min: sorted[0], max: sorted[sorted.length - 1] }
}

const format = (n) => n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2)

async function main () {
  const started = Date.now()
  const results = []
  for (const figure of figures) {
    if (only !== undefined && !only.includes(figure.id)) continue
    console.log(`\n${figure.title}`)
    const contenders = (await figure.run()).map((contender) => ({ ...contender, ...summary(contender.samples) }))
    for (const c of contenders) console.log(`  ${c.name.padEnd(34)} median ${format(c.median)} ${figure.unit} (min ${format(c.min)}, max ${format(c.max)})`)
    const ratios = figure.targets.map((target) => {
      const of = contenders.find((c) => c.name === target.of)
      const to = contenders.find((c) => c.name === target.to)
      const value = of.median / to.median
      const met = target.report ? null : target.min !== undefined ? value >= target.min : value <= target.max
      console.log(`  ratio ${target.of} / ${target.to}: ${value.toFixed(3)}${met === null ? '' : met ? ' (target met)' : ' (TARGET MISSED)'}`)
      return { ...target, value, met }
    })
    results.push({ id: figure.id, title: figure.title, unit: figure.unit, lowerIsBetter: figure.lowerIsBetter === true, contenders, ratios })
  }
  const run = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    mode: quick ? 'quick' : 'full',
    rounds: ROUNDS,
    seconds: { http: HTTP_SECONDS, other: SECONDS },
    durationSeconds: Math.round((Date.now() - started) / 1000),
    figures: results
  }
  if (only !== undefined) {
    console.log('\n--only: results.json and BENCHMARKS.md left as they were')
    return
  }
  writeFileSync(join(__dirname, 'results.json'), JSON.stringify(run, null, 2) + '\n')
  report(run)
  console.log(`\n${run.durationSeconds} s; wrote bench/results.json, bench/chart.svg, BENCHMARKS.md`)
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
