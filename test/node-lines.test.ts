import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { ProtocolAdapter } from '../types/index'
import { accepted, build, client, delivered, listen, slowRoute, upgradeRequest } from './helpers'

// What every Node line must do alike, whichever way its upgrade path goes: Node 20 does none of
// the work, 22.21+ and 24.9+ ask shouldUpgradeCallback first, 26 reads upgrade bodies itself.

declare module '../types/index' {
  interface UpgradeProtocols {
    never: Socket
  }
}

const { raw, websocket } = fastifyUpgrade
const echo = { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }

function answers (text: string): string[] {
  return text.split(/(?=HTTP\/1\.[01] \d)/).map((response) => response.split('\r\n')[0] + ' ' + response.split('\r\n\r\n')[1])
}

test('U10, S7: a request pipelined behind an upgrade no route speaks is answered, in order (Node ≥ 22.21 alone drops it)', async (t) => {
  const app = await build(t)
  app.get('/a', async () => 'a')
  app.get('/b', async () => 'b')
  app.get('/c', async () => 'c')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/a', 'foo') + 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n')
  await c.until('\r\n\r\nb')
  t.same(answers(c.text), ['HTTP/1.1 200 OK a', 'HTTP/1.1 200 OK b'])
  c.write(upgradeRequest('/c', 'foo'))
  await c.until('\r\n\r\nc')
  t.same(answers(c.text), ['HTTP/1.1 200 OK a', 'HTTP/1.1 200 OK b', 'HTTP/1.1 200 OK c'], 'alone in its read it may stay on Node\'s path')
})

test('U10, S7: on one connection, declined upgrades alone in their reads, with requests pipelined behind them, with header fields that have no space after the colon: every request is answered, in order', async (t) => {
  const app = await build(t)
  for (const path of 'abcdefghij') app.get(`/${path}`, async () => path)
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  const socket = await serverSide
  const plain = (path: string): string => `GET /${path} HTTP/1.1\r\nHost: x\r\n\r\n`
  const steps = [
    upgradeRequest('/a', 'foo'),
    upgradeRequest('/b', 'foo') + plain('c'),
    upgradeRequest('/d', 'foo'),
    // As long as the head with its spaces would be: what follows is 'GET', and the rest of that request comes later.
    'GET /e HTTP/1.1\r\nHost:127.0.0.1\r\nConnection:upgrade\r\nUpgrade:foo\r\n\r\nGET',
    ' /f HTTP/1.1\r\nHost: x\r\n\r\n',
    upgradeRequest('/g', 'foo'),
    upgradeRequest('/h', 'foo'),
    plain('i'),
    upgradeRequest('/j', 'foo')
  ]
  for (const step of steps) {
    // Each step is a read of its own.
    await delivered(c, socket)
    c.write(step)
  }
  await c.until('\r\n\r\nj')
  t.same(answers(c.text), [...'abcdefghij'].map((path) => `HTTP/1.1 200 OK ${path}`))
})

test('U10: a request pipelined behind a declined upgrade while the answers before it are still queued is answered once they are sent, in order', async (t) => {
  const app = await build(t)
  const { started: slowStarted, release } = slowRoute(app, '/slow')
  let bigSent = (): void => {}
  const bigQueued = new Promise<void>((resolve) => { bigSent = resolve })
  // Over the connection's high-water mark, queued behind /slow's answer: Node stops reading meanwhile.
  app.get('/big', (_request, reply) => { reply.send('z'.repeat(64 * 1024)); bigSent() })
  for (const path of 'abc') app.get(`/${path}`, async () => path)
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  const socket = await serverSide
  c.write(upgradeRequest('/a', 'foo'))
  await c.until('\r\n\r\na')
  c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n')
  await Promise.all([slowStarted, bigQueued])
  await delivered(c, socket)
  c.write(upgradeRequest('/b', 'foo') + 'GET /c HTTP/1.1\r\nHost: x\r\n\r\n')
  await delivered(c, socket)
  release()
  await c.until('\r\n\r\nc')
  t.same(answers(c.text).map((answer) => answer.slice(0, 20)), ['HTTP/1.1 200 OK a', 'HTTP/1.1 200 OK slow', 'HTTP/1.1 200 OK zzzz', 'HTTP/1.1 200 OK b', 'HTTP/1.1 200 OK c'])
})

test('S7: a declined upgrade with a body and a pipelined request: the body is the body, the request a request', async (t) => {
  const app = await build(t)
  app.post('/plain-body', async (request) => `got:${String(request.body)}`)
  app.get('/plain', async () => 'plain')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/plain-body', 'echo/1', ['Content-Type: text/plain', 'Content-Length: 10'], 'POST') + '0123456789' +
    'GET /plain HTTP/1.1\r\nHost: x\r\n\r\n')
  await c.until('\r\n\r\nplain')
  t.same(answers(c.text), ['HTTP/1.1 200 OK got:0123456789', 'HTTP/1.1 200 OK plain'])
})

test('U8, U10: upgrades whose bodies arrive after their heads, declined twice then accepted, on one connection', async (t) => {
  const app = await build(t)
  app.post('/echo', echo, async (request) => `declined:${String(request.body)}`)
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  const socket = await serverSide
  for (const body of ['first', 'second']) {
    c.write(upgradeRequest('/echo', 'nope/1', ['Content-Type: text/plain', `Content-Length: ${body.length}`], 'POST'))
    // The body is a read of its own, after the head's.
    await delivered(c, socket)
    c.write(body)
    await c.until(`declined:${body}`)
  }
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: text/plain', 'Transfer-Encoding: chunked'], 'POST'))
  await delivered(c, socket)
  c.write('5\r\nthird\r\n0\r\n\r\nafter')
  await c.until('after')
  t.same(answers(c.text).slice(0, 2), ['HTTP/1.1 200 OK declined:first', 'HTTP/1.1 200 OK declined:second'])
  t.match(c.text, /declined:secondHTTP\/1\.1 101 Switching Protocols\r\nUpgrade: echo\/1\r\nConnection: upgrade\r\n\r\nafter$/)
})

test('S5: a slow answer to a request that cannot switch is not cut off by handshakeTimeout', async (t) => {
  const never: ProtocolAdapter = { name: 'never', tokens: ['never/1'], check: () => false, switch () {} }
  const app = await build(t, { handshakeTimeout: 100, protocols: [raw({ name: 'echo', tokens: ['echo/1'] }), never] })
  // Kept: what is tested is an answer that outlives handshakeTimeout (100 ms), not a synchronisation.
  const slow = async (): Promise<string> => { await sleep(300); return 'slow but whole' }
  app.get('/plain', slow)
  app.get('/echo', echo, slow)
  app.get('/declined', { upgrade: { protocols: { never: () => {} } } }, slow)
  const port = await listen(app)
  for (const [path, offer, why] of [
    ['/plain', 'echo/1', 'a route without upgrade'],
    ['/echo', 'other/1', 'no protocol the route speaks'],
    ['/declined', 'never/1', 'the adapter declined']
  ]) {
    const c = client(t, port)
    c.write(upgradeRequest(path, offer))
    t.match(await c.until('whole', 2000), /^HTTP\/1\.1 200 OK\r\n[^]*slow but whole$/, why)
  }
})

test('U12: HEAD is answered as HEAD, never switched, Fastify\'s automatic HEAD routes included', async (t) => {
  const app = await build(t, { protocols: [raw({ name: 'echo', tokens: ['echo/1'] }), websocket()] })
  app.get('/echo', echo, async () => 'plain echo')
  app.get('/chat', { upgrade: { protocols: { websocket: () => {} } } }, async () => 'plain chat room')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/echo', 'echo/1', [], 'HEAD'))
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n[^]*content-length: 10\r\n[^]*\r\n\r\n$/i)
  c.write(upgradeRequest('/chat', 'websocket', ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'], 'HEAD'))
  // The second HEAD answer is the one whose length is that of 'plain chat room'.
  await c.until('content-length: 15')
  t.same(answers(c.text).map((answer) => answer.split(' ').slice(0, 3).join(' ')), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'])
  t.notMatch(c.text, /101|400/)
})

test('a shouldUpgradeCallback of the user\'s is heard: what it wants reaches their own \'upgrade\' listener', async (t) => {
  const app = await build(t)
  app.get('/echo', echo, async () => 'plain')
  app.get('/page', async () => 'a page')
  Object.assign(app.server, { shouldUpgradeCallback: (req: IncomingMessage) => req.headers.upgrade === 'mine' })
  app.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => { socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: mine\r\nConnection: upgrade\r\n\r\nmine') })
  const port = await listen(app)
  const mine = client(t, port)
  mine.write(upgradeRequest('/page', 'mine'))
  await mine.closed
  t.match(mine.text, /^HTTP\/1\.1 101 [^]*\r\n\r\nmine$/)
  const ours = client(t, port)
  ours.write(upgradeRequest('/echo', 'echo/1') + 'ping')
  t.match(await ours.until('ping'), /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: echo\/1\r\n[^]*\r\n\r\nping$/)
  const other = client(t, port)
  other.write(upgradeRequest('/page', 'theirs'))
  t.match(await other.until('a page'), /^HTTP\/1\.1 200 OK\r\n/)
})
