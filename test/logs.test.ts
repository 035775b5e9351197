import { Writable } from 'node:stream'
import { LogController, type FastifyServerOptions } from 'fastify'
import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import { frame, PREFACE, SETTINGS } from '../lib/adapters/h2c/frames'
import fastifyUpgrade from '../lib/index'
import type { H2cOptions } from '../types/index'
import { build, client, listen, upgradeRequest, type RawClient } from './helpers'
import { buildH2c, framesUntil } from './h2c-helpers'

const { websocket } = fastifyUpgrade
const UPGRADED = 'connection upgraded'
const CLOSED = 'upgraded connection closed'
const GOAWAY = 0x7

type Line = Record<string, any>

/** A logger stream that keeps the parsed lines and can wait for one. */
function capture (): { stream: Writable, lines: Line[], next: (match: (line: Line) => boolean) => Promise<Line> } {
  const lines: Line[] = []
  let waiters: Array<() => void> = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()))
      const woken = waiters
      waiters = []
      for (const wake of woken) wake()
      callback()
    }
  })
  async function next (match: (line: Line) => boolean): Promise<Line> {
    for (;;) {
      const found = lines.find(match)
      if (found !== undefined) return found
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  return { stream, lines, next }
}

/** An app with a WebSocket echo route at /chat/:room, logging to `log`. */
async function chat (t: Test, log: ReturnType<typeof capture>, fastifyOptions: FastifyServerOptions = {}): Promise<number> {
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
  const log = capture()
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
  t.type(closed.duration, 'number')
  t.ok(closed.duration >= 0)
  // The request head and two frames came in; the 101 and two frames went out.
  t.ok(closed.bytesRead > 200, `bytesRead ${closed.bytesRead}`)
  t.ok(closed.bytesWritten > 129, `bytesWritten ${closed.bytesWritten}`)
  t.equal(log.lines.filter((line) => line.msg === UPGRADED || line.msg === CLOSED).length, 2)
})

test('a message beyond maxPayload closes with 1009, and the close line says so', async (t) => {
  const log = capture()
  const port = await chat(t, log)
  const ws = await open(t, port, '/chat/big')
  const code = new Promise((resolve) => ws.once('close', resolve))
  ws.send('x'.repeat(65))
  t.equal(await code, 1009)
  const closed = await log.next((line) => line.msg === CLOSED)
  t.match(closed, { details: { code: 1009, reason: 'Max payload size exceeded' } })
})

test('a protocol error (an unmasked client frame) closes with 1002, and the close line says so', async (t) => {
  const log = capture()
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
  const log = capture()
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
  const log = capture()
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
  const log = capture()
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

/** An h2c session upgraded from `GET /news`, its client past the preface, and the app's log. */
async function upgradedH2c (t: Test, h2cOptions: H2cOptions = {}): Promise<{ log: ReturnType<typeof capture>, c: RawClient }> {
  const log = capture()
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
  const log = capture()
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
