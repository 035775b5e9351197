import { test } from 'tap'
import { END_HEADERS, END_STREAM, HEADERS, PREFACE, SETTINGS, frame, headerBlock } from '../lib/adapters/h2c/frames'
import { client, listen } from './helpers'
import { buildH2c, framesUntil, streamData } from './h2c-helpers'

const SWITCH = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: HTTP/2\r\nConnection: upgrade\r\n\r\n'

test('H3, U5, U6: the seed exchange byte for byte, the response on stream 1, a second request on stream 3', async (t) => {
  const app = await buildH2c(t)
  app.get('/news.html', { upgrade: { protocols: { h2c: true } } }, async (request) => `<h1>news</h1> over ${request.raw.httpVersion}`)
  const c = client(t, await listen(app))

  c.write('GET /news.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2, HTTP/3\r\n\r\n')
  await c.until('\r\n\r\n')
  t.equal(c.text, SWITCH, 'the 101 echoes the chosen token; HTTP/3 is never chosen')

  c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  let frames = await framesUntil(c, SWITCH.length, (f) => streamData(f, 1).ended)
  t.equal(frames[0].type, SETTINGS, 'the server\'s first frame is its SETTINGS')
  t.equal(frames[0].flags, 0)
  t.ok(frames.some((f) => f.type === SETTINGS && f.flags === 1), 'one ACK for the client\'s SETTINGS')
  const headers = frames.find((f) => f.type === HEADERS && f.stream === 1)
  t.equal(headers?.payload[0], 0x88, 'stream 1 answers :status 200 (HPACK static index 8)')
  t.same(streamData(frames, 1), { body: '<h1>news</h1> over 2.0', ended: true })
  t.notOk(frames.some((f) => f.stream !== 0 && f.stream !== 1), 'nothing on other streams')

  const seen = c.received.length
  c.write(Buffer.concat([
    frame(SETTINGS, 1, 0, Buffer.alloc(0)),
    frame(HEADERS, END_HEADERS | END_STREAM, 3, headerBlock([[':method', 'GET'], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', '/news.html']]))
  ]))
  frames = await framesUntil(c, seen, (f) => streamData(f, 3).ended)
  t.same(streamData(frames, 3), { body: '<h1>news</h1> over 2.0', ended: true }, 'the upgraded connection serves the next stream')
})

test('H2: an h2 token is ignored, HTTP/2.0 is answered as sent', async (t) => {
  const app = await buildH2c(t)
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'plain')
  const port = await listen(app)
  const h2 = client(t, port)
  h2.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: h2\r\n\r\n')
  t.match(await h2.until('plain'), /^HTTP\/1\.1 200 OK\r\n/)
  const http20 = client(t, port)
  http20.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: h2, HTTP/2.0\r\n\r\n')
  t.equal(await http20.until('\r\n\r\n'), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: HTTP/2.0\r\nConnection: upgrade\r\n\r\n')
})
