'use strict'

// The fuzz run: cases from scripts/fuzz/cases.js against a real server (scripts/fuzz/app.js) on
// 127.0.0.1, each on its own connection, several at once; the invariants checked per case and,
// at the end, against the baseline taken before the first case.
const { connect } = require('node:net')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { setFlagsFromString } = require('node:v8')
const { runInNewContext } = require('node:vm')
const fc = require('fast-check')
const { start, HANDSHAKE_TIMEOUT } = require('./app')
const { caseArbitrary, materialize } = require('./cases')
const { switchProblem } = require('./oracle')

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')
// Every connection is answered or closed within handshakeTimeout + 1 s, and closed that long after its FIN at most.
const BOUND = HANDSHAKE_TIMEOUT + 1000
// Client and server share this process: on a busy machine the event loop stalls, and an answer
// comes late through no fault of the server. A case whose bound passes while the loop has stalled
// longer than this is given the bound once more.
const STALL_MS = 100
const stalls = monitorEventLoopDelay({ resolution: 20 })
stalls.enable()
const BATCH = 1000
const HEAP_BOUND = 4 * 2 ** 20

const escape = (bytes) => JSON.stringify(bytes.toString('latin1'))
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed }
function resources () {
  const counts = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

/** Cases come in batches of 1000 drawn with seed + batch number, so any case can be drawn alone. */
const drawBatch = (seed, number) => fc.sample(caseArbitrary(), { seed: seed + number, numRuns: BATCH })

/** The answer after any `100 Continue`: where it starts, and whether its head is whole. */
function finalAnswer (response) {
  let at = 0
  while (response.toString('latin1', at, at + 13) === 'HTTP/1.1 100 ') {
    const end = response.indexOf('\r\n\r\n', at)
    if (end === -1) return { at, whole: false }
    at = end + 4
  }
  return { at, whole: response.indexOf('\r\n\r\n', at) !== -1 || (response.length > at && response[at] !== 0x48) }
}

/** Sends one case on a new connection; answers what happened. */
function send (port, { bytes, pieces, fin }, onPort = () => {}) {
  return new Promise((resolve) => {
    const begin = performance.now()
    const socket = connect(port, '127.0.0.1')
    const result = { answeredMs: undefined, closedMs: undefined, finMs: undefined, response: Buffer.alloc(0), problem: undefined }
    let timer
    let extended = false
    const finish = (problem) => {
      clearTimeout(timer)
      result.problem ??= problem
      socket.destroy()
      resolve(result)
    }
    // Past the bound: a connection left open must have been answered, a half-closed one closed.
    const expire = () => {
      if (!extended && stalls.max / 1e6 > STALL_MS) {
        extended = true
        stalls.reset()
        timer = setTimeout(expire, BOUND)
        return
      }
      if (result.answeredMs === undefined) finish('neither answered nor closed')
      else finish(result.finMs === undefined ? undefined : 'not closed after the FIN')
    }
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      result.answeredMs ??= performance.now() - begin
      result.response = Buffer.concat([result.response, chunk])
      if (result.finMs === undefined && finalAnswer(result.response).whole) finish()
    })
    socket.on('close', () => {
      result.closedMs = performance.now() - begin
      finish()
    })
    socket.on('connect', async () => {
      onPort(socket.localPort)
      timer = setTimeout(expire, BOUND)
      let at = 0
      for (const cut of [...pieces, bytes.length]) {
        if (socket.destroyed) return
        socket.write(bytes.subarray(at, cut))
        at = cut
        await new Promise(setImmediate)
      }
      if (fin && !socket.destroyed) {
        socket.end()
        result.finMs = performance.now() - begin
        clearTimeout(timer)
        timer = setTimeout(expire, BOUND)
      }
    })
  })
}

/** What the first final answer in `response` is, and whether a 101 there was allowed for `bytes`. */
function check (bytes, response) {
  const text = response.toString('latin1', finalAnswer(response).at)
  if (!text.startsWith('HTTP/1.1 101 ')) return undefined
  const end = text.indexOf('\r\n\r\n')
  return switchProblem(bytes, end === -1 ? text : text.slice(0, end))
}

async function settle (app) {
  const deadline = Date.now() + 10000
  for (;;) {
    const open = await new Promise((resolve) => app.server.getConnections((_, n) => resolve(n)))
    const registry = app.upgrade.connections()
    const held = Object.values(registry).reduce((a, b) => a + b, 0)
    if ((open === 0 && held === 0) || Date.now() > deadline) return { open, registry }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Runs `cases` cases (or the ones listed in `only`) with `seed`; answers the figures and the violations.
 */
async function fuzz ({ fastifyUpgrade, certificate, cases, seed, concurrency = 24, only, progress = () => {} }) {
  const baseHeap = heap()
  const baseResources = resources()
  const { app, port } = await start(fastifyUpgrade, certificate)
  // The server's sockets by the client's port, to name the case of any left open at the end.
  const serverSockets = new Map()
  const caseOfPort = new Map()
  app.server.on('connection', (socket) => {
    const peer = socket.remotePort
    serverSockets.set(peer, socket)
    socket.on('close', () => {
      serverSockets.delete(peer)
      caseOfPort.delete(peer)
    })
  })
  const figures = {
    seed,
    cases: 0,
    answered: 0,
    closedUnanswered: 0,
    closedAfterFin: 0,
    switched: 0,
    maxAnswerMs: 0,
    maxCloseAfterFinMs: 0,
    heapBefore: 0,
    heapAfter: 0,
    seconds: 0,
    casesPerSecond: 0
  }
  const violations = []
  const indexes = only ?? Array.from({ length: cases }, (_, i) => i)
  let next = 0
  let batch
  let batchNumber = -1
  const begin = performance.now()
  async function worker () {
    while (next < indexes.length) {
      const index = indexes[next++]
      if (Math.floor(index / BATCH) !== batchNumber) {
        batchNumber = Math.floor(index / BATCH)
        batch = drawBatch(seed, batchNumber)
      }
      const c = batch[index % BATCH]
      const sent = materialize(c)
      const result = await send(port, sent, (local) => caseOfPort.set(local, index))
      figures.cases++
      if (result.answeredMs !== undefined) {
        figures.answered++
        figures.maxAnswerMs = Math.max(figures.maxAnswerMs, result.answeredMs)
      } else if (result.closedMs !== undefined) {
        figures.closedUnanswered++
      }
      if (result.finMs !== undefined && result.closedMs !== undefined) {
        figures.closedAfterFin++
        figures.maxCloseAfterFinMs = Math.max(figures.maxCloseAfterFinMs, result.closedMs - result.finMs)
      }
      const problem = result.problem ?? (c.kind === 'http' ? check(sent.bytes, result.response) : undefined)
      if (result.response.toString('latin1', finalAnswer(result.response).at).startsWith('HTTP/1.1 101 ')) figures.switched++
      if (problem !== undefined) {
        // The first few of each kind in full; the others by index (held bytes would weigh on the heap figure).
        const full = violations.filter((v) => v.problem === problem).length < 20
        violations.push(full ? { index, problem, fin: sent.fin, pieces: sent.pieces, sent: escape(sent.bytes), received: escape(result.response.subarray(0, 400)) } : { index, problem })
      }
      if (figures.cases % 1000 === 0) progress(figures, violations)
      // The heap is measured from after the first batch, once the code has warmed up.
      if (figures.cases === Math.min(BATCH, indexes.length)) figures.heapBefore = heap()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  figures.seconds = (performance.now() - begin) / 1000
  figures.casesPerSecond = Math.round(figures.cases / figures.seconds)
  const settled = await settle(app)
  figures.heapAfter = heap()
  // Flat: what the cases after the first batch left behind, with every connection closed.
  if (figures.heapAfter - figures.heapBefore > HEAP_BOUND) violations.push({ problem: `the heap grew by ${((figures.heapAfter - figures.heapBefore) / 2 ** 20).toFixed(1)} MB` })
  // Still serving: the process and its server outlived every case.
  const alive = await send(port, { bytes: Buffer.from('GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), pieces: [], fin: false })
  if (!alive.response.toString().startsWith('HTTP/1.1 200')) violations.push({ problem: 'the server no longer answers' })
  if (settled.open !== 0) {
    const left = [...serverSockets].map(([peer, socket]) => ({ index: caseOfPort.get(peer), readableEnded: socket.readableEnded, writableEnded: socket.writableEnded }))
    violations.push({ problem: `${settled.open} connections still open after every client closed`, left: left.slice(0, 20) })
  }
  if (Object.values(settled.registry).some((n) => n !== 0)) violations.push({ problem: `registry not empty: ${JSON.stringify(settled.registry)}` })
  await app.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  figures.heapEnd = heap()
  figures.heapBase = baseHeap
  const after = resources()
  for (const type of new Set([...Object.keys(baseResources), ...Object.keys(after)])) {
    if ((after[type] ?? 0) > (baseResources[type] ?? 0)) violations.push({ problem: `${after[type] - (baseResources[type] ?? 0)} more ${type} than before the run` })
  }
  return { figures, violations }
}

module.exports = { fuzz, drawBatch, BOUND }
