import { connect, type ClientHttp2Session } from 'node:http2'
import { test } from 'tap'
import { PREFACE, SETTINGS, frame } from '../lib/adapters/h2c/frames'
import { client, listen } from './helpers'
import { buildH2c, framesUntil, streamData } from './h2c-helpers'

const GOAWAY = 0x7

/** A route that answers once `release` is called, and says when a request has reached it. */
function gate (): { entered: Promise<void>, release: () => void, wait: () => Promise<string> } {
  let enter!: () => void
  let release!: () => void
  const entered = new Promise<void>((resolve) => { enter = resolve })
  const released = new Promise<void>((resolve) => { release = resolve })
  return { entered, release, wait: async () => { enter(); await released; return 'finished' } }
}

function http2Client (t: Parameters<typeof buildH2c>[0], port: number): ClientHttp2Session {
  const session = connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  return session
}

test('S5: fastify.close() sends GOAWAY on a prior-knowledge session and lets the in-flight stream finish', async (t) => {
  const app = await buildH2c(t)
  const slow = gate()
  app.get('/slow', slow.wait)
  const session = http2Client(t, await listen(app))
  const goaway = new Promise<number>((resolve) => session.once('goaway', resolve))
  const request = session.request({ ':path': '/slow' })
  let body = ''
  request.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
  const ended = new Promise((resolve) => request.on('end', resolve))
  await slow.entered
  const closed = app.close()
  t.equal(await goaway, 0, 'GOAWAY with NO_ERROR')
  slow.release()
  await ended
  t.equal(body, 'finished')
  await closed
  t.pass('close resolved once the stream was done')
})

test('S5: an upgraded connection gets GOAWAY on close, stream 1 still finishes', async (t) => {
  const app = await buildH2c(t)
  const slow = gate()
  app.get('/slow', { upgrade: { protocols: { h2c: true } } }, slow.wait)
  const c = client(t, await listen(app))
  c.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n')
  const head = (await c.until('\r\n\r\n')).length
  c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  await slow.entered
  const closed = app.close()
  await framesUntil(c, head, (frames) => frames.some((f) => f.type === GOAWAY))
  slow.release()
  const frames = await framesUntil(c, head, (f) => streamData(f, 1).ended)
  t.same(streamData(frames, 1), { body: 'finished', ended: true })
  await closed
  await c.closed
  t.pass('the connection closed')
})

test('S5: streams that do not finish are cut off after closeTimeout', async (t) => {
  const app = await buildH2c(t, {}, { closeTimeout: 50 })
  const slow = gate()
  app.get('/never', slow.wait)
  const session = http2Client(t, await listen(app))
  const closed = new Promise((resolve) => session.on('close', resolve))
  session.request({ ':path': '/never' }).on('error', () => {})
  await slow.entered
  await app.close()
  await closed
  t.pass('the session was destroyed')
})

test('S5: an idle session is closed after sessionTimeout', async (t) => {
  const app = await buildH2c(t, { sessionTimeout: 20 })
  app.get('/', async () => 'hi')
  const session = http2Client(t, await listen(app))
  const request = session.request({ ':path': '/' })
  request.resume()
  await new Promise((resolve) => request.on('end', resolve))
  t.equal(await new Promise((resolve) => session.once('goaway', resolve)), 0)
})

test('S5: an upgraded h2c connection counts against maxConnections', async (t) => {
  const app = await buildH2c(t, {}, { maxConnections: 1 })
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'hi')
  const port = await listen(app)
  const request = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n'
  const first = client(t, port)
  first.write(request)
  t.match(await first.until('\r\n\r\n'), /^HTTP\/1\.1 101 /)
  const second = client(t, port)
  second.write(request)
  t.match(await second.until('\r\n\r\n'), /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*retry-after: 5\r\n/i)
})

test('S5: fastify.close() does not wait for a connection that has sent nothing yet', async (t) => {
  const app = await buildH2c(t)
  const c = client(t, await listen(app))
  await new Promise((resolve) => c.socket.once('connect', resolve))
  await app.close()
  await c.closed
  t.pass('closed without waiting for headersTimeout')
})
