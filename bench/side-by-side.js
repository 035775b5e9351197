'use strict'

// A second opinion on the two figures of BENCHMARKS.md that matter most, measured another way than
// bench/run.js: plain GETs with wrk (not autocannon) and WebSocket handshakes with ws's own client
// (not raw sockets), a fresh server per sample, A and B alternating. After `npm run build`:
//   scripts/node-line.sh 26 taskset -c 1 node bench/side-by-side.js
// (servers on CPU 0, this load generator and wrk on CPU 1). Needs wrk (Debian: wrk).
const { spawnSync } = require('node:child_process')
const WebSocket = require('ws')
const { cannotPin, start } = require('./server-process')
const { quantile } = require('./stats')
const { connect } = require('./ws-client')

const PAIRS = 6
const SECONDS = 4
const HANDSHAKES = 15000
const LOOPS = 50

const whyNot = cannotPin()
if (whyNot !== undefined) console.log(`Not pinning the servers: ${whyNot}`)
const pinned = whyNot === undefined

function wrk (port, seconds) {
  const run = spawnSync('wrk', ['-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/up`])
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`)
  return Number(/(\d+) requests in/.exec(run.stdout.toString())[1])
}

/** `count` handshakes by LOOPS clients, each opening a WebSocket and dropping it once open. */
function handshakes (port, count) {
  let started = 0
  const loop = () => new Promise((resolve, reject) => {
    const next = () => {
      if (started++ >= count) { resolve(); return }
      // ws-client's connections take turns among source addresses (TIME_WAIT, see there).
      const ws = new WebSocket(`ws://127.0.0.1:${port}/up`, { perMessageDeflate: false, createConnection: () => connect(port) })
      ws.on('open', () => { ws.terminate(); next() })
      ws.on('error', reject)
    }
    next()
  })
  return Promise.all(Array.from({ length: LOOPS }, loop)).then(() => count)
}

/** Operations per second and server CPU µs per operation, after a warm-up of the same load. */
async function sample (kind, load) {
  const server = await start(kind, pinned)
  await load(server.port, true)
  const cpu = await server.cpu()
  const began = process.hrtime.bigint()
  const ops = await load(server.port, false)
  const seconds = Number(process.hrtime.bigint() - began) / 1e9
  const cpuPerOp = (await server.cpu() - cpu) / ops
  await server.stop()
  return { rate: ops / seconds, cpuPerOp }
}

const median = (values) => quantile([...values].sort((a, b) => a - b), 0.5)
const range = (values) => `${Math.min(...values).toFixed(3)} – ${Math.max(...values).toFixed(3)}`

async function compare (title, a, b, load) {
  const byRate = []
  const byCpu = []
  for (let pair = 0; pair < PAIRS; pair++) {
    const [first, second] = pair % 2 === 0 ? [a, b] : [b, a]
    const results = { [first]: await sample(first, load), [second]: await sample(second, load) }
    byRate.push(results[a].rate / results[b].rate)
    byCpu.push(results[b].cpuPerOp / results[a].cpuPerOp)
    console.log(`  ${a} ${results[a].rate.toFixed(0)}/s ${results[a].cpuPerOp.toFixed(1)} µs, ${b} ${results[b].rate.toFixed(0)}/s ${results[b].cpuPerOp.toFixed(1)} µs`)
  }
  console.log(`${title}: ${a} / ${b} by rate ${median(byRate).toFixed(3)} (${range(byRate)}), by server CPU per op ${median(byCpu).toFixed(3)} (${range(byCpu)})`)
}

async function main () {
  console.log(`Node ${process.version}, ${PAIRS} pairs`)
  const get = async (port, warmUp) => wrk(port, warmUp ? 2 : SECONDS)
  const open = (port, warmUp) => handshakes(port, warmUp ? HANDSHAKES / 5 : HANDSHAKES)
  await compare('plain GET to a route that has upgrade', 'upgrade', 'fastify', get)
  await compare('WebSocket handshakes', 'upgrade-websocket', 'fastify-websocket', open)
  await compare('WebSocket handshakes', 'upgrade-websocket', 'ws', open)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
