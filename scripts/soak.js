'use strict'

// `npm run soak [-- --websockets 10000 --h2c 2000 --churn 0.2]`: opens the WebSockets and h2c
// sessions (half upgraded, half prior knowledge) against a server in its own process, churns them
// (closes and reopens a share of each), then closes the server. Records the server's RSS per
// connection, its heap, and how long fastify.close() takes, in bench/soak.json and in the "Soak"
// section of BENCHMARKS.md (one row per Node line).
const { execFileSync, fork } = require('node:child_process')
const { readFileSync, writeFileSync } = require('node:fs')
const os = require('node:os')
const { join } = require('node:path')
const { parseArgs } = require('node:util')
const { Connection } = require('../bench/h2-client')
const { report } = require('../bench/report')
const { handshake } = require('../bench/ws-client')

const { values } = parseArgs({
  options: {
    websockets: { type: 'string', default: '10000' },
    h2c: { type: 'string', default: '2000' },
    churn: { type: 'string', default: '0.2' }
  }
})
const WEBSOCKETS = Number(values.websockets)
const SESSIONS = Number(values.h2c)
const CHURN = Number(values.churn)
const ROOT = join(__dirname, '..')

// Each process holds one descriptor per connection, and a few hundred more.
const NEEDED = WEBSOCKETS + SESSIONS + 500
const limit = Number(execFileSync('bash', ['-c', 'ulimit -n']).toString())
if (limit < NEEDED && process.env.SOAK_RAISED === undefined) {
  // The soft limit can go up to the hard one for this process and its child: run again under it.
  const hard = execFileSync('bash', ['-c', 'ulimit -Hn']).toString().trim()
  if (hard !== 'unlimited' && Number(hard) < NEEDED) {
    console.error(`ulimit -n is ${limit} (hard ${hard}); the soak needs ${NEEDED} descriptors per process: raise the hard limit`)
    process.exit(1)
  }
  const args = [process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)].map((a) => `'${a}'`).join(' ')
  execFileSync('bash', ['-c', `ulimit -n ${hard === 'unlimited' ? 65536 : hard} && exec ${args}`], { stdio: 'inherit', env: { ...process.env, SOAK_RAISED: '1' } })
  process.exit(0)
}

function startServer () {
  const child = fork(join(__dirname, 'soak', 'server.js'), { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const answer = (request) => new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`soak server exited with ${code}`)))
    if (request !== undefined) child.send(request)
  })
  return answer().then(({ port }) => ({ port, child, ask: answer }))
}

/** A held WebSocket: answers the server's close frame with its own, and remembers the code. */
async function openWebSocket (port) {
  const socket = await handshake(port, '/up')
  const ws = { socket, code: undefined, closed: new Promise((resolve) => socket.on('close', resolve)) }
  socket.on('error', () => {})
  socket.on('data', (chunk) => {
    const bytes = Buffer.from(chunk, 'latin1')
    if (bytes[0] !== 0x88 || bytes.length < 4) return
    ws.code = bytes.readUInt16BE(2)
    socket.end(Buffer.from([0x88, 0x82, 0, 0, 0, 0, bytes[2], bytes[3]]))
  })
  return ws
}

/** A held h2c session that has served one GET: upgraded or prior knowledge. */
async function openSession (port, upgrade) {
  const connection = new Connection(port, '/up', upgrade)
  await connection.open
  if (!upgrade) await connection.get()
  connection.socket.on('error', () => {})
  return { connection, closed: new Promise((resolve) => connection.socket.on('close', resolve)) }
}

/** Runs `count` opens, `concurrency` at a time. */
async function many (count, open, concurrency = 100) {
  const opened = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      opened[i] = await open(i)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return opened
}

async function main () {
  const server = await startServer()
  const { port } = server
  const measure = () => server.ask('measure')
  const begin = performance.now()
  const base = await measure()

  let websockets = await many(WEBSOCKETS, () => openWebSocket(port))
  const withWebSockets = await measure()
  let sessions = await many(SESSIONS, (i) => openSession(port, i % 2 === 0), 50)
  const withSessions = await measure()

  // Churn: close a share of each and open as many again.
  const churned = { websockets: Math.round(WEBSOCKETS * CHURN), sessions: Math.round(SESSIONS * CHURN) }
  const goneWs = websockets.slice(0, churned.websockets)
  const goneSessions = sessions.slice(0, churned.sessions)
  for (const ws of goneWs) ws.socket.destroy()
  for (const s of goneSessions) s.connection.close()
  await Promise.all([...goneWs, ...goneSessions].map((c) => c.closed))
  websockets = [...websockets.slice(churned.websockets), ...await many(churned.websockets, () => openWebSocket(port))]
  sessions = [...sessions.slice(churned.sessions), ...await many(churned.sessions, (i) => openSession(port, i % 2 === 0), 50)]
  const afterChurn = await measure()

  const { closeMs } = await server.ask('close')
  await Promise.all([...websockets, ...sessions].map((c) => c.closed))
  const codes = {}
  for (const ws of websockets) codes[ws.code ?? 'none'] = (codes[ws.code ?? 'none'] ?? 0) + 1
  const afterClose = await measure()
  server.child.kill()

  const result = {
    node: process.version,
    cpu: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: `npm run soak -- --websockets ${WEBSOCKETS} --h2c ${SESSIONS} --churn ${CHURN}`,
    websockets: WEBSOCKETS,
    sessions: SESSIONS,
    churned,
    rssPerWebSocket: (withWebSockets.rss - base.rss) / WEBSOCKETS,
    rssPerSession: (withSessions.rss - withWebSockets.rss) / SESSIONS,
    heap: { base: base.heapUsed, open: withSessions.heapUsed, afterChurn: afterChurn.heapUsed, afterClose: afterClose.heapUsed },
    rss: { base: base.rss, open: withSessions.rss, afterChurn: afterChurn.rss, afterClose: afterClose.rss },
    upgradedAfterChurn: afterChurn.upgraded,
    closeMs,
    closeCodes: codes,
    leftOpen: { sockets: afterClose.open, upgraded: afterClose.upgraded },
    seconds: (performance.now() - begin) / 1000
  }
  console.log(JSON.stringify(result, null, 2))
  record(result)
}

/** Keeps the run in bench/soak.json (one per Node major), from which bench/report.js writes BENCHMARKS.md's "Soak" section. */
function record (result) {
  const file = join(ROOT, 'bench', 'soak.json')
  let runs = {}
  try { runs = JSON.parse(readFileSync(file, 'utf8')) } catch {}
  runs[result.node.split('.')[0]] = result
  writeFileSync(file, JSON.stringify(runs, null, 2) + '\n')
  report(JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8')))
}

main().catch((error) => { console.error(error); process.exit(1) })
