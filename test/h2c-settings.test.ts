import { test } from 'tap'
import { PREFACE, SETTINGS, frame } from '../lib/adapters/h2c/frames'
import { decodeSettings } from '../lib/adapters/h2c/settings'
import { accepted, client, delivered, listen } from './helpers'
import { buildH2c, framesUntil, streamData } from './h2c-helpers'

function settings (...pairs: Array<[number, number]>): Buffer {
  const payload = Buffer.alloc(pairs.length * 6)
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6)
    payload.writeUInt32BE(value, i * 6 + 2)
  })
  return payload
}

const b64 = (payload: Buffer): string => payload.toString('base64url')
const DATA = 0x0

test('H1: HTTP2-Settings is base64url without padding of 6-byte settings with values in range', async (t) => {
  t.same(decodeSettings(b64(settings([3, 100], [4, 0x7fffffff], [2, 0], [5, 16384], [8, 1], [99, 7]))), settings([3, 100], [4, 0x7fffffff], [2, 0], [5, 16384], [8, 1], [99, 7]))
  t.same(decodeSettings(''), Buffer.alloc(0), 'no settings at all')
  t.same(decodeSettings(b64(settings([5, 0xffffff]))), settings([5, 0xffffff]))
  for (const [bad, why] of [
    ['AAMAAABk+AQC', 'base64, not base64url'],
    ['AAMAAABkAAQCAAAAAAIAAAAA==', 'padding'],
    ['AAMAA', 'impossible length'],
    ['AAMA', 'not a multiple of 6 bytes'],
    ['AAMA AABk', 'space'],
    [b64(settings([2, 2])), 'ENABLE_PUSH 2'],
    [b64(settings([8, 2])), 'ENABLE_CONNECT_PROTOCOL 2'],
    [b64(settings([4, 0x80000000])), 'INITIAL_WINDOW_SIZE 2^31'],
    [b64(settings([5, 16383])), 'MAX_FRAME_SIZE below 16384'],
    [b64(settings([5, 0x1000000])), 'MAX_FRAME_SIZE 2^24']
  ]) t.equal(decodeSettings(bad), undefined, why)
})

test('H1: an h2c upgrade without exactly one valid HTTP2-Settings, listed in Connection, is served over HTTP/1.1', async (t) => {
  const app = await buildH2c(t)
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'served over HTTP/1.1')
  const port = await listen(app)
  const good = b64(settings([3, 100]))
  const cases: Array<[string, string[]]> = [
    ['missing', ['Connection: upgrade, HTTP2-Settings']],
    ['not in Connection', ['Connection: upgrade', `HTTP2-Settings: ${good}`]],
    ['duplicated', ['Connection: upgrade, HTTP2-Settings', `HTTP2-Settings: ${good}`, `HTTP2-Settings: ${good}`]],
    ['bad base64url', ['Connection: upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMA+AB/']],
    ['out of range', ['Connection: upgrade, HTTP2-Settings', `HTTP2-Settings: ${b64(settings([2, 5]))}`]]
  ]
  for (const [why, lines] of cases) {
    const c = client(t, port)
    c.write(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: h2c', ...lines, '', ''].join('\r\n'))
    t.match(await c.until('HTTP/1.1'), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nserved over HTTP\/1\.1$/, why)
  }
  const aliased = client(t, port)
  aliased.write(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: HTTP/2', 'Connection: upgrade', 'HTTP2-Settings: !', '', ''].join('\r\n'))
  t.match(await aliased.until('HTTP/1.1'), /^HTTP\/1\.1 200 OK\r\n/, 'an invalid HTTP2-Settings declines the HTTP/2 alias too')
  const empty = client(t, port)
  empty.write(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: h2c', 'Connection: upgrade, HTTP2-Settings', 'HTTP2-Settings:', '', ''].join('\r\n'))
  t.match(await empty.until('\r\n\r\n'), /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: h2c\r\n/, 'an empty SETTINGS payload is valid')
})

test('H1: HTTP2-Settings applies as the client\'s first SETTINGS, which its own SETTINGS frame overrides', async (t) => {
  const app = await buildH2c(t)
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'x'.repeat(100))
  const port = await listen(app)
  const upgrade = (window: number): string => ['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: h2c', 'Connection: upgrade, HTTP2-Settings',
    `HTTP2-Settings: ${b64(settings([4, window]))}`, '', ''].join('\r\n')

  const small = client(t, port)
  small.write(upgrade(10))
  const head = (await small.until('\r\n\r\n')).length
  small.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  const frames = await framesUntil(small, head, (f) => f.some((x) => x.type === DATA && x.stream === 1))
  t.same(frames.filter((f) => f.type === DATA && f.stream === 1).map((f) => f.payload.length), [10], 'a 10-byte window from HTTP2-Settings')
  small.close()

  const overridden = client(t, port)
  overridden.write(upgrade(10))
  const head2 = (await overridden.until('\r\n\r\n')).length
  overridden.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings([4, 65535]))]))
  const all = await framesUntil(overridden, head2, (f) => streamData(f, 1).ended)
  t.same(streamData(all, 1), { body: 'x'.repeat(100), ended: true })
})

test('H3: the client\'s preface and SETTINGS may arrive in pieces after the 101', async (t) => {
  const app = await buildH2c(t)
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'pieces')
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  const socket = await serverSide
  c.write(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: HTTP/2', 'Connection: upgrade', '', ''].join('\r\n'))
  const head = (await c.until('\r\n\r\n')).length
  const start = Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings([3, 10]))])
  for (const piece of [start.subarray(0, 20), start.subarray(20, 30), start.subarray(30, 36), start.subarray(36)]) {
    c.write(piece)
    // Each piece arrives as a read of its own.
    await delivered(c, socket)
  }
  t.same(streamData(await framesUntil(c, head, (f) => streamData(f, 1).ended), 1), { body: 'pieces', ended: true })
})

test('H3: a client that does not start HTTP/2 after the 101 is disconnected', async (t) => {
  const app = await buildH2c(t)
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'x')
  const port = await listen(app)
  const lines = ['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: HTTP/2', 'Connection: upgrade', '', ''].join('\r\n')
  for (const [why, bytes] of [
    ['not the preface', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['a PING first', Buffer.concat([PREFACE, frame(6, 0, 0, Buffer.alloc(8))])],
    ['a SETTINGS ACK first', Buffer.concat([PREFACE, frame(SETTINGS, 1, 0, Buffer.alloc(0))])],
    ['SETTINGS on a stream', Buffer.concat([PREFACE, frame(SETTINGS, 0, 1, Buffer.alloc(0))])],
    ['a SETTINGS frame larger than 16384 bytes once merged', Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(16386))])]
  ] as const) {
    const c = client(t, port)
    c.write(lines)
    await c.until('\r\n\r\n')
    c.write(bytes)
    await c.closed
    t.pass(why)
  }
  const silent = client(t, port)
  silent.write(lines)
  await silent.until('\r\n\r\n')
  silent.socket.end()
  await silent.closed
  t.pass('a client that ends before its preface')
})
