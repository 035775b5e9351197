import Fastify from 'fastify'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { END_HEADERS, END_STREAM, HEADERS, PREFACE, SETTINGS, frame, headerBlock } from '../lib/adapters/h2c/frames'
import { accepted, client, delivered, listen } from './helpers'
import { buildH2c, framesUntil, streamData } from './h2c-helpers'

const GET_ROOT = frame(HEADERS, END_HEADERS | END_STREAM, 1, headerBlock([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']]))

test('H5: a preface that arrives in pieces is still HTTP/2', async (t) => {
  const app = await buildH2c(t)
  app.get('/', async (request) => `HTTP/${request.raw.httpVersion}`)
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  const socket = await serverSide
  for (const piece of [PREFACE.subarray(0, 1), PREFACE.subarray(1, 10), PREFACE.subarray(10)]) {
    c.write(piece)
    // Each piece arrives as a read of its own.
    await delivered(c, socket)
  }
  c.write(Buffer.concat([frame(SETTINGS, 0, 0, Buffer.alloc(0)), GET_ROOT]))
  const frames = await framesUntil(c, 0, (f) => streamData(f, 1).ended)
  t.same(streamData(frames, 1), { body: 'HTTP/2.0', ended: true })
})

test('H5: HTTP/1.1 on the same port, even when it starts like the preface, and after a declined upgrade', async (t) => {
  const app = await buildH2c(t)
  app.post('/', async (request) => `HTTP/${request.raw.httpVersion} ${String(request.body)}`)
  app.get('/', async (request) => `HTTP/${request.raw.httpVersion} ${String((request.query as { n: string }).n)}`)
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  c.write('P')
  await delivered(c, await serverSide)
  c.write('OST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi')
  t.match(await c.until('HTTP/1.1 hi'), /HTTP\/1\.1 hi$/)
  c.write('GET /?n=declined HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: nothing-we-speak\r\n\r\n')
  t.match(await c.until('HTTP/1.1 declined'), /HTTP\/1\.1 declined$/)
  c.write('GET /?n=after HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await c.until('HTTP/1.1 after'), /HTTP\/1\.1 after$/, 'the connection handed back to HTTP/1.1 is not sniffed again')
})

test('H5: the first bytes of a connection are bounded by handshakeTimeout, as every stage of a handshake is', async (t) => {
  const app = await buildH2c(t, {}, { handshakeTimeout: 30 })
  const port = await listen(app)
  const partial = client(t, port)
  partial.write(PREFACE.subarray(0, 5))
  await partial.closed
  t.equal(partial.text, '', 'half a preface, then closed')
  const silent = client(t, port)
  await silent.closed
  t.pass('a silent connection is closed')
  const ended = client(t, port)
  ended.write('PRI')
  ended.socket.end()
  await ended.closed
  t.pass('a connection that ends before saying what it speaks is closed')
  const reset = client(t, port)
  await new Promise((resolve) => reset.socket.once('connect', resolve))
  reset.socket.resetAndDestroy()
  await reset.closed
  const after = client(t, port)
  after.write('GET /missing HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await after.until('\r\n\r\n'), /^HTTP\/1\.1 404 /, 'a reset while sniffing harms nothing')
})

test('H5: priorKnowledge: false leaves the HTTP/1 server alone', async (t) => {
  const app = await buildH2c(t, { priorKnowledge: false })
  const c = client(t, await listen(app))
  c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 [45]\d\d /, 'Node\'s HTTP/1 parser answers the preface')
})

test('H5: no sniffing on a server that is not cleartext HTTP/1', async (t) => {
  const app = Fastify({ http2: true })
  t.teardown(() => app.close())
  const before = app.server.listeners('connection')
  await app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.h2c()] })
  t.same(app.server.listeners('connection'), before)
})
