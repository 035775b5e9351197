import { test } from 'tap'
import { END_HEADERS, END_STREAM, HEADERS, PREFACE, SETTINGS, frame, headerBlock } from '../lib/adapters/h2c/frames'
import { client, listen, within } from './helpers'
import { buildH2c, framesUntil, streamData } from './h2c-helpers'

const CLIENT_START = Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))])
const GET_3 = frame(HEADERS, END_HEADERS | END_STREAM, 3, headerBlock([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']]))
const GET_1 = frame(HEADERS, END_HEADERS | END_STREAM, 1, headerBlock([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']]))

// A server that never closed its side would leave the connection (and its file descriptor) open for good.
const closedWithin = within

test('H5: a prior-knowledge connection the client ends is closed by the server', async (t) => {
  const app = await buildH2c(t)
  app.get('/', async () => 'hi')
  const c = client(t, await listen(app))
  c.write(Buffer.concat([CLIENT_START, GET_1]))
  t.same(streamData(await framesUntil(c, 0, (f) => streamData(f, 1).ended), 1), { body: 'hi', ended: true })
  c.socket.end()
  t.ok(await closedWithin(c.closed, 5000), 'the server closes its side too')
})

test('H3: an upgraded h2c connection the client ends is closed by the server', async (t) => {
  const app = await buildH2c(t)
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'hi')
  const c = client(t, await listen(app))
  c.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n')
  const head = (await c.until('\r\n\r\n')).indexOf('\r\n\r\n') + 4
  c.write(Buffer.concat([CLIENT_START, GET_3]))
  const frames = await framesUntil(c, head, (f) => streamData(f, 1).ended && streamData(f, 3).ended)
  t.same([streamData(frames, 1), streamData(frames, 3)], [{ body: 'hi', ended: true }, { body: 'hi', ended: true }])
  c.socket.end()
  t.ok(await closedWithin(c.closed, 5000), 'the server closes its side too')
})
