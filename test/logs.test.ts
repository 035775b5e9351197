import Fastify, { LogController, type FastifyBaseLogger, type FastifyServerOptions } from 'fastify'
import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import { frame, PREFACE, SETTINGS } from '../lib/adapters/h2c/frames'
import fastifyUpgrade from '../lib/index'
import type { H2cOptions } from '../types/index'
import { build, client, listen, logs, upgradeRequest, type Line, type RawClient } from './helpers'
import { buildH2c, framesUntil, hasTool, run } from './h2c-helpers'

const { websocket, h2c } = fastifyUpgrade
const UPGRADED = 'connection upgraded'
const CLOSED = 'upgraded connection closed'
const GOAWAY = 0x7

type Log = ReturnType<typeof logs>

/** The lines of requests (those with a reqId), and the messages they say, in order. */
function requestLines (log: Log): { lines: Line[], messages: string[], ids: Set<string> } {
  const lines = log.lines.filter((line) => line.reqId !== undefined)
  return { lines, messages: lines.map((line) => line.msg), ids: new Set(lines.map((line) => line.reqId)) }
}

/** An app with a WebSocket echo route at /chat/:room, logging to `log`. */
async function chat (t: Test, log: Log, fastifyOptions: FastifyServerOptions = {}): Promise<number> {
  const app = await build(t, { protocols: [websocket({ maxPayload: 64 })] }, { logger: { stream: log.stream }, ...fastifyOptions })
  app.get('/chat/:room', {
    upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => { socket.send(data) }) } } }
  }, async () => 'plain')
  return listen(app)
}

/** Opens a ws client on `path`, closed when the test ends. */
async function open (t: Test, port: number, path: string): Promise<WsClient> {
  const ws = new WsClient(`ws://127.0.0.1:${port}${path}`)
  ws.on('error', () => {})
  t.teardown(() => ws.terminate())
  await new Promise((resolve) => ws.once('open', resolve))
  return ws
}

test('a WebSocket session leaves an upgrade line and a close line with its code and reason, under the request id', async (t) => {
  const log = logs()
  const port = await chat(t, log)
  const ws = await open(t, port, '/chat/lobby')
  ws.send('hello')
  await new Promise((resolve) => ws.once('message', resolve))
  ws.close(1000, 'bye')
  const closed = await log.next((line) => line.msg === CLOSED)

  const incoming = log.lines.find((line) => line.msg === 'incoming request') as Line
  const upgraded = log.lines.find((line) => line.msg === UPGRADED) as Line
  t.match(incoming, { level: 30, req: { url: '/chat/lobby' } })
  t.match(upgraded, { level: 30, reqId: incoming.reqId, adapter: 'websocket', protocol: 'websocket', route: '/chat/:room' })
  t.match(closed, { level: 30, reqId: incoming.reqId, adapter: 'websocket', protocol: 'websocket', route: '/chat/:room', details: { code: 1000, reason: 'bye' } })
  // Both times count from the request's start, as Fastify's responseTime does.
  t.ok(upgraded.responseTime >= 0 && closed.responseTime >= upgraded.responseTime, `${upgraded.responseTime} then ${closed.responseTime}`)
  t.notOk('duration' in closed, 'Fastify\'s name for it')
  // The request head and two frames came in; the 101 and two frames went out.
  t.ok(closed.bytesRead > 200, `bytesRead ${closed.bytesRead}`)
  t.ok(closed.bytesWritten > 129, `bytesWritten ${closed.bytesWritten}`)
  t.equal(log.lines.filter((line) => line.msg === UPGRADED || line.msg === CLOSED).length, 2)
})

for (const level of ['info', 'debug'] as const) {
  /** The four sessions a user tries first, on one app logging at `level`: a WebSocket echo, a route only WebSockets reach, an h2c route. */
  const showcase = async (t: Test): Promise<{ log: Log, port: number }> => {
    const log = logs()
    const app = await build(t, { protocols: [websocket(), h2c()] }, { logger: { level, stream: log.stream } })
    app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => { socket.send(data) }) } } } }, async () => 'plain')
    app.get('/only-ws', { upgrade: { protocols: { websocket: () => {} }, required: true } }, async () => 'never')
    app.get('/news', { upgrade: { protocols: { h2c: true } } }, async () => 'news')
    return { log, port: await listen(app) }
  }

  test(`${level}: a WebSocket session is one request: its 101 with responseTime, then its close`, async (t) => {
    const { log, port } = await showcase(t)
    const ws = await open(t, port, '/chat')
    ws.close(1000, 'bye')
    await log.next((line) => line.msg === CLOSED)
    const { lines, messages, ids } = requestLines(log)
    t.same(messages, ['incoming request', UPGRADED, CLOSED])
    t.equal(ids.size, 1, 'one reqId')
    t.match(lines[1], { level: 30, res: { statusCode: 101 }, responseTime: Number, adapter: 'websocket', protocol: 'websocket', route: '/chat' })
    t.match(lines[2], { level: 30, responseTime: Number, bytesRead: Number, bytesWritten: Number, details: { code: 1000, reason: 'bye' } })
  })

  test(`${level}: a 426 is logged as Fastify logs an error reply, at info and with no stack`, async (t) => {
    const { log, port } = await showcase(t)
    t.equal((await fetch(`http://127.0.0.1:${port}/only-ws`)).status, 426)
    await log.next((line) => line.msg === 'request completed')
    const { lines, messages, ids } = requestLines(log)
    t.same(messages, ['incoming request', 'This resource is only served after an upgrade to websocket', 'request completed'])
    t.equal(ids.size, 1)
    t.match(lines[1], { level: 30, res: { statusCode: 426 }, err: { code: 'FST_ERR_UPGRADE_REQUIRED', statusCode: 426 } })
    t.notMatch(lines[1].err.stack ?? '', /\bat\b/, 'no frames')
    t.match(lines[2], { level: 30, res: { statusCode: 426 }, responseTime: Number })
  })

  test(`${level}: an upgrade to a protocol no adapter speaks is served as plain HTTP, and says why at debug`, async (t) => {
    const { log, port } = await showcase(t)
    const c = client(t, port)
    c.write(upgradeRequest('/chat', 'foo/1'))
    t.match(await c.until('plain'), /^HTTP\/1\.1 200 OK\r\n/)
    await log.next((line) => line.msg === 'request completed')
    const { lines, messages, ids } = requestLines(log)
    t.equal(ids.size, 1)
    if (level === 'info') {
      t.same(messages, ['incoming request', 'request completed'])
      return
    }
    t.same(messages, ['incoming request', 'upgrade declined', 'request completed'])
    t.match(lines[1], { level: 20, protocols: ['foo/1'], reason: 'unsupported' })
  })

  test(`${level}: curl --http2 is one request: its upgrade and its answer on stream 1 share the reqId`, async (t) => {
    if (!hasTool(t, 'curl')) return
    const { log, port } = await showcase(t)
    t.equal((await run('curl', ['-sS', '--http2', `http://127.0.0.1:${port}/news`])).stdout, 'news')
    await log.next((line) => line.msg === CLOSED)
    const { lines, messages, ids } = requestLines(log)
    t.same(messages, ['incoming request', UPGRADED, 'incoming request', 'request completed', CLOSED])
    t.equal(ids.size, 1, 'one reqId')
    t.match(lines[1], { res: { statusCode: 101 }, responseTime: Number, adapter: 'h2c', protocol: 'h2c', route: '/news' })
    t.match(lines[3], { res: { statusCode: 200 } })
    t.match(lines[4], { adapter: 'h2c', responseTime: Number })
  })
}

test('a message beyond maxPayload closes with 1009, and the close line says so', async (t) => {
  const log = logs()
  const port = await chat(t, log)
  const ws = await open(t, port, '/chat/big')
  const code = new Promise((resolve) => ws.once('close', resolve))
  ws.send('x'.repeat(65))
  t.equal(await code, 1009)
  const closed = await log.next((line) => line.msg === CLOSED)
  t.match(closed, { details: { code: 1009, reason: 'Max payload size exceeded' } })
})

test('a protocol error (an unmasked client frame) closes with 1002, and the close line says so', async (t) => {
  const log = logs()
  const port = await chat(t, log)
  const c = client(t, port)
  c.write(upgradeRequest('/chat/raw', 'websocket', ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']))
  await c.until('\r\n\r\n')
  // RFC 6455 §5.1: a server closes the connection on a frame a client did not mask.
  c.write(Buffer.from([0x81, 0x02, 0x68, 0x69]))
  const closed = await log.next((line) => line.msg === CLOSED)
  t.match(closed, { details: { code: 1002 } })
  t.match(closed.details.reason, /MASK/)
})

test('a failing handler is logged at error level, and its connection closes with 1011', async (t) => {
  const log = logs()
  const app = await build(t, { protocols: [websocket()] }, { logger: { stream: log.stream } })
  app.get('/fail', { upgrade: { protocols: { websocket: async () => { throw new Error('boom') } } } }, async () => 'plain')
  const ws = await open(t, await listen(app), '/fail')
  const code = new Promise((resolve) => ws.once('close', resolve))
  t.equal(await code, 1011)
  const closed = await log.next((line) => line.msg === CLOSED)
  const failed = log.lines.find((line) => line.level === 50) as Line
  t.match(failed, { reqId: closed.reqId, err: { code: 'FST_ERR_UPGRADE_HANDLER', message: 'The websocket handler of /fail failed' } })
  t.match(closed, { details: { code: 1011 } })
})

test('disableRequestLogging: true silences the upgrade and close lines as it silences Fastify\'s own', async (t) => {
  const log = logs()
  const port = await chat(t, log, { disableRequestLogging: true })
  const ws = await open(t, port, '/chat/quiet')
  const closed = new Promise((resolve) => ws.once('close', resolve))
  ws.close(1000)
  await closed
  // A request after the session: its lines would be written after any of the session's.
  const app = (await fetch(`http://127.0.0.1:${port}/chat/after`)).text()
  t.equal(await app, 'plain')
  t.same(log.lines.filter((line) => line.level === 30 && line.reqId !== undefined), [])
})

test('a log controller\'s disableRequestLogging function decides per request', async (t) => {
  const log = logs()
  const logController = new LogController({ disableRequestLogging: (request: { url: string }) => request.url.startsWith('/chat/quiet') })
  const port = await chat(t, log, { logController } as FastifyServerOptions)
  const quiet = await open(t, port, '/chat/quiet')
  quiet.close(1000)
  await new Promise((resolve) => quiet.once('close', resolve))
  const loud = await open(t, port, '/chat/loud')
  loud.close(1000, 'done')
  await log.next((line) => line.msg === CLOSED)
  const lines = log.lines.filter((line) => line.msg === UPGRADED || line.msg === CLOSED)
  t.equal(lines.length, 2)
  t.match(lines, [{ msg: UPGRADED, route: '/chat/:room' }, { msg: CLOSED, details: { code: 1000, reason: 'done' } }])
  const incoming = log.lines.filter((line) => line.msg === 'incoming request')
  t.match(incoming, [{ req: { url: '/chat/loud' } }], 'Fastify decided the same')
})

test('a logger whose level leaves a line out is not even handed it', async (t) => {
  const written: unknown[] = []
  const write = (object: unknown, message?: string): void => { written.push(message ?? object) }
  const warn = new Set(['warn', 'error', 'fatal'])
  // A logger at warn that keeps whatever it is handed, as a custom logger may.
  const logger = { level: 'warn', isLevelEnabled: (level: string) => warn.has(level), info: write, debug: write, error: write, warn: write, fatal: write, trace: write, child: () => logger }
  const app = Fastify({ loggerInstance: logger as unknown as FastifyBaseLogger })
  await app.register(fastifyUpgrade, { protocols: [websocket()] })
  app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.close(1000) } } } }, async () => 'plain')
  t.teardown(() => app.close())
  const port = await listen(app)
  const ws = await open(t, port, '/chat')
  await new Promise((resolve) => ws.once('close', resolve))
  const c = client(t, port)
  c.write(upgradeRequest('/chat', 'foo/1'))
  await c.until('plain')
  // Fastify's own lines are handed over (it does not ask); none of the plugin's.
  t.same(written.filter((line) => line === UPGRADED || line === CLOSED || line === 'upgrade declined'), [])
  t.ok(written.includes('incoming request'))
})

/** An h2c session upgraded from `GET /news`, its client past the preface, and the app's log. */
async function upgradedH2c (t: Test, h2cOptions: H2cOptions = {}): Promise<{ log: Log, c: RawClient }> {
  const log = logs()
  const app = await buildH2c(t, h2cOptions, {}, { logger: { stream: log.stream } })
  app.get('/news', { upgrade: { protocols: { h2c: true } } }, async () => 'news')
  const c = client(t, await listen(app))
  c.write('GET /news HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n')
  await c.until('\r\n\r\n')
  c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  return { log, c }
}

test('an h2c session the client ends with GOAWAY logs its code', async (t) => {
  const { log, c } = await upgradedH2c(t)
  await c.until('news')
  // GOAWAY, last stream 0, ENHANCE_YOUR_CALM (0xb), then the client leaves.
  c.write(frame(GOAWAY, 0, 0, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x0b])))
  const closed = await log.next((line) => line.msg === CLOSED)
  t.match(log.lines.find((line) => line.msg === UPGRADED), { adapter: 'h2c', protocol: 'HTTP/2', route: '/news', reqId: closed.reqId })
  t.match(closed, { adapter: 'h2c', details: { goawayCode: 0xb, goawayFrom: 'client' } })
  t.ok(closed.bytesRead > 0 && closed.bytesWritten > 0)
})

test('an h2c session the server ends (sessionTimeout) logs its GOAWAY with NO_ERROR', async (t) => {
  const { log, c } = await upgradedH2c(t, { sessionTimeout: 20 })
  await c.closed
  const closed = await log.next((line) => line.msg === CLOSED)
  t.match(closed, { adapter: 'h2c', details: { goawayCode: 0, goawayFrom: 'server' } })
})

test('an h2c session the client leaves without GOAWAY logs no GOAWAY', async (t) => {
  const { log, c } = await upgradedH2c(t)
  await c.until('news')
  c.socket.end()
  const closed = await log.next((line) => line.msg === CLOSED)
  t.same(closed.details, {})
})

test('on fastify.close() the server\'s GOAWAY is logged, not the client\'s answer to it', async (t) => {
  const log = logs()
  const app = await buildH2c(t, {}, {}, { logger: { stream: log.stream } })
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let enter!: () => void
  const entered = new Promise<void>((resolve) => { enter = resolve })
  app.get('/slow', { upgrade: { protocols: { h2c: true } } }, async () => {
    enter()
    await released
    return 'finished'
  })
  const c = client(t, await listen(app))
  c.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n')
  const head = (await c.until('\r\n\r\n')).length
  c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  await entered
  const closing = app.close()
  await framesUntil(c, head, (frames) => frames.some((f) => f.type === GOAWAY))
  c.write(frame(GOAWAY, 0, 0, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x0b])))
  const closed = await log.next((line) => line.msg === CLOSED)
  release()
  await closing
  t.match(closed, { details: { goawayCode: 0, goawayFrom: 'server' } })
})

test('a switch of OPTIONS * leaves its upgrade line, timed from the request\'s head, under the server\'s logger', async (t) => {
  const log = logs()
  const wide = fastifyUpgrade.raw({ name: 'wide', tokens: ['wide/1'] })
  const app = await build(t, { protocols: [{ ...wide, serverWide: { switch (ctx) { ctx.socket.end('bye') } } }] }, { logger: { stream: log.stream } })
  const port = await listen(app)
  const c = client(t, port)
  c.write('OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: wide/1\r\n\r\n')
  t.match(await c.until('bye'), /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*bye$/)
  await c.closed
  t.match(log.lines.find((line) => line.msg === UPGRADED), { level: 30, res: { statusCode: 101 }, responseTime: Number, adapter: 'wide', protocol: 'wide/1', route: '*' })
})
