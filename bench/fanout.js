'use strict'

// Fan-out: one publisher sends text messages at a fixed rate and every one of N clients gets each,
// from one process (straight, then through Redis pub/sub) and from two processes of N/2 clients
// each through Redis, as examples/cluster/app.mjs runs. Per setup and N: deliveries per second,
// latency from publish to receipt (p50, p99), server CPU per delivery and Redis's CPU. After
// `npm run build`, with redis-server installed (Debian: redis-server):
//   node bench/fanout.js [--clients 1000,5000,10000] [--rate 10] [--seconds 5]
// Each run replaces its Node line's entry in bench/fanout.json, which bench/report.js puts in
// BENCHMARKS.md (`node bench/report.js` rewrites it from the files as they are).
// Loopback only; every count and duration is bounded. Servers are not pinned: two servers, Redis
// and this load generator share the machine's CPUs.
const { spawnSync } = require('node:child_process')
const { readFileSync, writeFileSync } = require('node:fs')
const os = require('node:os')
const { join } = require('node:path')
const WebSocket = require('ws')
const { startRedis } = require('./redis-server')
const { start } = require('./server-process')
const { quantile } = require('./stats')
const { hold } = require('./ws-client')

const option = (name, fallback) => {
  const at = process.argv.indexOf(name)
  return at === -1 ? fallback : process.argv[at + 1]
}
const RATE = Number(option('--rate', '10'))
const SECONDS = Number(option('--seconds', '5'))
const WARM_UP_SECONDS = 1
// Past the window, how long messages still in flight may take before the run gives up on them.
const DRAIN_SECONDS = 10
const REDIS_PORT = Number(option('--redis-port', '6399'))
// Each client is a file descriptor here and in a server, beside a few hundred of Node's own.
const FD_LIMIT = Number(spawnSync('sh', ['-c', 'ulimit -n']).stdout.toString().trim()) || 1024
const CLIENTS = option('--clients', '1000,5000,10000').split(',').map(Number)

/** Splits what a server sends into the payloads of its text frames (unmasked, shorter than 64 KiB). */
function frames (socket, onText) {
  let pending = Buffer.alloc(0)
  socket.on('data', (data) => {
    // ws-client's handshake left the socket decoding latin1: back to the bytes.
    const chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : data
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    let at = 0
    while (pending.length - at >= 2) {
      const short = pending[at + 1] & 0x7f
      const header = short === 126 ? 4 : 2
      const length = short === 126 ? pending.readUInt16BE(at + 2) : short
      if (pending.length - at < header + length) break
      if ((pending[at] & 0x0f) === 1) onText(pending.toString('latin1', at + header, at + header + length))
      at += header + length
    }
    pending = pending.subarray(at)
  })
}

/** CPU time of a process that is not ours (redis-server), in µs, from /proc. */
function procCpu (pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / 100 // utime + stime, at USER_HZ = 100
}

/**
 * One run: `clients` receivers spread over `servers`; the publisher, a ws client of the first
 * server, sends `seq time` at RATE for the warm-up and the window.
 */
async function measure (servers, clients, redis) {
  const sockets = []
  for (const [i, server] of servers.entries()) {
    const share = Math.floor(clients / servers.length) + (i < clients % servers.length ? 1 : 0)
    sockets.push(...await hold(server.port, '/up', share, 100))
  }
  const publisher = new WebSocket(`ws://127.0.0.1:${servers[0].port}/up`, { perMessageDeflate: false })
  await new Promise((resolve, reject) => { publisher.once('open', resolve).once('error', reject) })

  let first = Infinity // the first message of the window
  let last = -1 // the last one
  let windowEnd = Infinity
  let inWindow = 0 // receipts that arrived during the window
  let received = 0 // receipts of the window's messages, whenever they arrived
  const latencies = []
  let drained = () => {}
  const expected = () => (last - first + 1) * clients
  for (const socket of sockets) {
    frames(socket, (text) => {
      const now = performance.now()
      const space = text.indexOf(' ')
      const seq = Number(text.slice(0, space))
      if (now < windowEnd && seq >= first) inWindow++
      if (seq < first || seq > last) return
      latencies.push(now - Number(text.slice(space + 1)))
      if (++received === expected()) drained()
    })
  }

  // Messages due by now are sent now: a late timer sends several rather than slowing the rate.
  let seq = 0
  const started = performance.now()
  const tick = setInterval(() => {
    while (seq < (performance.now() - started) * RATE / 1000) publisher.send(`${seq++} ${performance.now()}`)
  }, Math.max(1, Math.floor(250 / RATE)))
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_SECONDS * 1000))
  first = seq
  last = Infinity
  const cpuBefore = await Promise.all(servers.map((server) => server.cpu()))
  const redisBefore = redis === undefined ? 0 : procCpu(redis.pid)
  const windowStart = performance.now()
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  windowEnd = performance.now()
  last = seq - 1
  clearInterval(tick)
  const cpu = (await Promise.all(servers.map((server) => server.cpu()))).reduce((sum, after, i) => sum + after - cpuBefore[i], 0)
  const redisCpu = redis === undefined ? undefined : procCpu(redis.pid) - redisBefore
  const seconds = (windowEnd - windowStart) / 1000

  // Messages still in flight arrive (their latency counts), up to a bound.
  if (received < expected()) {
    await new Promise((resolve) => {
      drained = resolve
      setTimeout(resolve, DRAIN_SECONDS * 1000).unref()
    })
  }
  publisher.terminate()
  for (const socket of sockets) socket.destroy()
  latencies.sort((a, b) => a - b)
  return {
    perSecond: inWindow / seconds,
    complete: received / expected(),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    cpuPerDelivery: cpu / inWindow,
    redisCpuShare: redisCpu === undefined ? undefined : redisCpu / (seconds * 1e6)
  }
}

const SETUPS = [
  { name: '1 process', processes: 1, redis: false },
  { name: '1 process, Redis', processes: 1, redis: true },
  { name: '2 processes, Redis', processes: 2, redis: true }
]

async function main () {
  const sizes = CLIENTS.filter((n) => n + 256 <= FD_LIMIT)
  for (const n of CLIENTS) if (!sizes.includes(n)) console.log(`${n} clients skipped: ulimit -n is ${FD_LIMIT}`)
  console.log(`Node ${process.version}, ${RATE} messages/s, ${SECONDS} s window after ${WARM_UP_SECONDS} s of warm-up\n`)
  console.log('| clients | setup | deliveries/s | complete | p50 ms | p99 ms | server CPU µs/delivery | Redis CPU |')
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|')
  const rows = []
  const redis = await startRedis(REDIS_PORT)
  try {
    for (const n of sizes) {
      for (const setup of SETUPS) {
        const env = setup.redis ? { REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}` } : {}
        const servers = await Promise.all(Array.from({ length: setup.processes }, () => start('fanout', false, env)))
        try {
          const r = await measure(servers, n, setup.redis ? redis : undefined)
          const redisCpu = r.redisCpuShare === undefined ? '' : `${(r.redisCpuShare * 100).toFixed(1)} %`
          console.log(`| ${n} | ${setup.name} | ${Math.round(r.perSecond)} | ${(r.complete * 100).toFixed(1)} % | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpuPerDelivery.toFixed(2)} | ${redisCpu} |`)
          rows.push({ clients: n, setup: setup.name, ...r })
        } finally {
          await Promise.all(servers.map((server) => server.stop()))
        }
      }
    }
  } finally {
    await redis.stop()
  }
  record(rows)
}

/** This run, as its Node line's entry in bench/fanout.json. */
function record (rows) {
  const file = join(__dirname, 'fanout.json')
  let runs = {}
  try {
    runs = JSON.parse(readFileSync(file, 'utf8'))
  } catch {}
  runs[process.versions.node.split('.')[0]] = {
    node: process.version,
    cpu: `${os.cpus().length} CPUs (${os.cpus()[0].model.trim()})`,
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: `node bench/fanout.js ${process.argv.slice(2).join(' ')}`.trim(),
    rate: RATE,
    seconds: SECONDS,
    skipped: CLIENTS.filter((n) => n + 256 > FD_LIMIT),
    rows
  }
  writeFileSync(file, JSON.stringify(runs, null, 2) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
