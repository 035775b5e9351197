'use strict'

// One benchmark server, run in its own process by bench/run.js (`fork`): `node bench/server.js <kind>`.
// It tells its port over IPC, and answers 'rss' with its resident set size after a full GC.
const http = require('node:http')
const fastify = require('fastify')
const { WebSocketServer } = require('ws')
// BENCH_PACKAGE: the plugin of another checkout, built (bench/run.js --against).
const fastifyUpgrade = require(process.env.BENCH_PACKAGE || '..')

const BODY = { hello: 'world' }
// BENCH_LOGGER=<level>: every Fastify contender logs at that level, to /dev/null (Fastify's default
// logger, pino, writing synchronously as it does to stdout); without it, no logger, Fastify's default.
const Fastify = (options = {}) => process.env.BENCH_LOGGER === undefined
  ? fastify(options)
  : fastify({ ...options, logger: { level: process.env.BENCH_LOGGER, file: '/dev/null' } })
// Every WebSocket contender alike: open sockets tracked (as `clients`), no permessage-deflate.
const WS_OPTIONS = { clientTracking: true, perMessageDeflate: false }
const hello = async () => BODY

/** Echoes every message, as every contender does. */
function echo (socket) {
  socket.on('message', (data, binary) => { socket.send(data, { binary }) })
}

const kinds = {
  // Fastify alone: the same two routes, neither knows about upgrades.
  async fastify () {
    const app = Fastify()
    app.get('/plain', hello)
    app.get('/up', hello)
    return app
  },

  // The plugin with the WebSocket and h2c adapters: /plain has no `upgrade`, /up has.
  async upgrade () {
    const app = Fastify()
    await app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.websocket(WS_OPTIONS), fastifyUpgrade.h2c()] })
    app.get('/plain', hello)
    app.get('/up', { upgrade: { protocols: { websocket: echo, h2c: true } } }, hello)
    return app
  },

  // The same, with every request Node flags as an upgrade taken through the plugin's upgrade path,
  // as on Node 20: where Node asks shouldUpgradeCallback (≥ 22.21), the plugin keeps requests that
  // cannot switch on Node's path unless bytes follow them that Node would drop.
  async 'upgrade-path' () {
    const app = await kinds.upgrade()
    await app.ready()
    app.server.shouldUpgradeCallback = () => true
    return app
  },

  // The plugin with the WebSocket adapter alone, as an app that replaces @fastify/websocket has it.
  async 'upgrade-websocket' () {
    const app = Fastify()
    await app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.websocket(WS_OPTIONS)] })
    app.get('/up', { upgrade: { protocols: { websocket: echo } } }, hello)
    return app
  },

  async 'fastify-websocket' () {
    const app = Fastify()
    await app.register(require('@fastify/websocket'), { options: WS_OPTIONS })
    app.get('/up', { websocket: true }, echo)
    return app
  },

  // Fastify's own HTTP/2 server (cleartext, prior knowledge).
  async 'fastify-http2' () {
    const app = Fastify({ http2: true })
    app.get('/up', hello)
    return app
  },

  // bench/fanout.js: every text message a client sends goes to every client; with REDIS_URL,
  // through Redis pub/sub to the clients of every process, as examples/cluster/app.mjs does.
  async fanout () {
    const ws = fastifyUpgrade.websocket(WS_OPTIONS)
    const app = Fastify()
    await app.register(fastifyUpgrade, { protocols: [ws] })
    const broadcast = (text) => { for (const client of ws.clients) client.send(text) }
    let publish = broadcast
    if (process.env.REDIS_URL) {
      const { createClient } = require('redis')
      const publisher = createClient({ url: process.env.REDIS_URL })
      const subscriber = publisher.duplicate()
      await Promise.all([publisher.connect(), subscriber.connect()])
      await subscriber.subscribe('fanout', broadcast)
      publish = (text) => { publisher.publish('fanout', text) }
    }
    app.get('/up', { upgrade: { protocols: { websocket: (socket) => socket.on('message', (data) => publish(data.toString())) } } }, hello)
    return app
  },

  // No Fastify: Node's http server and ws's handleUpgrade, as ws's README shows.
  async ws () {
    const wss = new WebSocketServer({ noServer: true, ...WS_OPTIONS })
    const server = http.createServer((req, res) => { res.end(JSON.stringify(BODY)) })
    server.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, echo)
    })
    return {
      server,
      listen: (options) => new Promise((resolve) => { server.listen(options, resolve) })
    }
  }
}

let inspector
/** bench/allocations.js: V8's sampling heap profiler, counting the objects collected since too. */
function sampleAllocations (message) {
  if (inspector === undefined) {
    inspector = new (require('node:inspector').Session)()
    inspector.connect()
  }
  if (message === 'allocations-start') {
    inspector.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, () => { process.send({}) })
  } else {
    inspector.post('HeapProfiler.stopSampling', (error, result) => { process.send(error === null ? result : { error: error.message }) })
  }
}

async function main () {
  const kind = kinds[process.argv[2]]
  if (kind === undefined) throw new Error(`unknown server kind ${process.argv[2]}`)
  const app = await kind()
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send({ cpu: user + system })
      return
    }
    if (message.startsWith?.('allocations-')) {
      sampleAllocations(message)
      return
    }
    global.gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    process.send({ rss, heapUsed })
  })
  // The runner is gone: nobody will stop this server otherwise.
  process.once('disconnect', () => { process.exit(0) })
  // Exit, rather than die by the signal, so that --cpu-prof writes its profile.
  process.once('SIGINT', () => { process.exit(0) })
  process.send({ port: app.server.address().port })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
