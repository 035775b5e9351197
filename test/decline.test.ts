import type { Socket } from 'node:net'
import { test } from 'tap'
import { build, client, listen, slowRoute, upgradeRequest } from './helpers'

const echo = { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }

function responses (text: string): string[] {
  return text.split(/(?=HTTP\/1\.[01] )/).map((response) => response.split('\r\n')[0] + ' ' + response.split('\r\n\r\n')[1])
}

test('U4: an Upgrade with no acceptable protocol is served as plain HTTP, and the connection serves the next request (U10)', async (t) => {
  const app = await build(t)
  app.get('/echo', echo, async () => 'plain echo')
  app.get('/other', async () => 'other')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'HTTP/3, websocket'))
  await c.until('plain echo')
  t.match(c.text, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(c.text, /connection: keep-alive/i)
  c.write('GET /other HTTP/1.1\r\nHost: x\r\n\r\n')
  await c.until('other')
  t.same(responses(c.text), ['HTTP/1.1 200 OK plain echo', 'HTTP/1.1 200 OK other'])
})

test('U10: pipelined requests after a declined upgrade are answered in order', async (t) => {
  const app = await build(t)
  app.post('/echo', echo, async (request) => `posted ${String(request.body)}`)
  // Kept: a slow first answer, so that the pipelined ones must wait for it (what is tested).
  app.get('/a', async () => { await new Promise((resolve) => setTimeout(resolve, 20)); return 'a' })
  app.get('/b', async () => 'b')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'nope', ['Content-Type: text/plain', 'Content-Length: 3'], 'POST') + 'abc' +
    'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
    upgradeRequest('/echo', 'nope', ['Content-Type: text/plain', 'Transfer-Encoding: chunked'], 'POST') + '2\r\nxy\r\n0\r\n\r\n' +
    'GET /b HTTP/1.1\r\nHost: x\r\n\r\n')
  await c.until('\r\n\r\nb')
  t.same(responses(c.text), ['HTTP/1.1 200 OK posted abc', 'HTTP/1.1 200 OK a', 'HTTP/1.1 200 OK posted xy', 'HTTP/1.1 200 OK b'])
})

test('U10: an upgrade pipelined behind two answers still under way starts once both are sent, and the server stays up', async (t) => {
  const app = await build(t)
  app.get('/echo', echo, async () => 'plain echo')
  const { started: slowStarted, release } = slowRoute(app, '/slow')
  app.get('/a', async () => 'a')
  const port = await listen(app)
  const c = client(t, port)
  c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n' + upgradeRequest('/echo', 'echo/1') + 'ping')
  await slowStarted
  release()
  await c.until('ping')
  t.same(responses(c.text).slice(0, 2), ['HTTP/1.1 200 OK slow', 'HTTP/1.1 200 OK a'])
  t.match(c.text, /\r\n\r\naHTTP\/1\.1 101 Switching Protocols\r\nUpgrade: echo\/1\r\nConnection: upgrade\r\n\r\nping$/)
})

test('U2: without upgrade in Connection the request is plain, even to a route that upgrades', async (t) => {
  const app = await build(t)
  app.get('/echo', echo, async () => 'plain echo')
  const port = await listen(app)
  const c = client(t, port)
  c.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nUpgrade: echo/1\r\n\r\n')
  t.match(await c.until('plain echo'), /^HTTP\/1\.1 200 OK\r\n[^]*plain echo$/)
})

test('U3: an upgrade in an HTTP/1.0 request is ignored, gets no 1xx, and the connection closes after the answer', async (t) => {
  const app = await build(t)
  app.post('/echo', echo, async (request) => `plain ${String(request.body)}`)
  const port = await listen(app)
  const c = client(t, port)
  c.write('POST /echo HTTP/1.0\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo/1\r\nExpect: 100-continue\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi')
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 200 OK\r\n/)
  t.notMatch(c.text, /100 Continue|101 Switching/)
  t.match(c.text, /plain hi$/)
})

test('S3: a hook that replies wins: no 101, and the connection goes on as HTTP/1.1', async (t) => {
  const app = await build(t)
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization !== 'Bearer ok') return reply.code(401).send({ error: 'who are you?' })
  })
  app.get('/echo', echo, async () => 'plain echo')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await c.until('who are you')
  t.match(c.text, /^HTTP\/1\.1 401 Unauthorized\r\n/)
  c.write(upgradeRequest('/echo', 'echo/1', ['Authorization: Bearer ok']) + 'now')
  await c.until('now')
  t.match(c.text, /who are you\?"\}HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: echo\/1\r\nConnection: upgrade\r\n\r\nnow$/)
})

test('U10: a hook that refuses before reading an announced body closes the connection after its answer', async (t) => {
  const app = await build(t)
  app.addHook('onRequest', async (_request, reply) => reply.code(403).send('no'))
  app.post('/echo', echo, async () => 'plain echo')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Length: 100', 'Expect: 100-continue'], 'POST'))
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 403 Forbidden\r\n[^]*\r\n\r\nno$/)
  t.notMatch(c.text, /100 Continue/, 'the body is not asked for')
})

test('U10: Connection: close is honoured on a declined upgrade', async (t) => {
  const app = await build(t)
  app.get('/echo', echo, async () => 'plain echo')
  const port = await listen(app)
  const c = client(t, port)
  c.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: nope\r\n\r\n')
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 200 OK\r\n[^]*plain echo$/)
})

test('U10: Node\'s keep-alive idle timeout applies to a connection after a declined upgrade', async (t) => {
  const app = await build(t, {}, { keepAliveTimeout: 200 })
  app.get('/echo', echo, async () => 'plain echo')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'nope'))
  await c.until('plain echo')
  await c.closed
  t.ok(c.socket.destroyed, 'the idle connection was closed by the server')
})

test('U10: a request after the hand-back is not cut by the idle timer while it is served', async (t) => {
  const app = await build(t, {}, { keepAliveTimeout: 100 })
  app.get('/echo', echo, async () => 'plain echo')
  // Kept: an answer slower than keepAliveTimeout (100 ms) is what is tested.
  app.get('/slow', async () => { await new Promise((resolve) => setTimeout(resolve, 300)); return 'slow' })
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'nope'))
  await c.until('plain echo')
  c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await c.until('\r\n\r\nslow'), /HTTP\/1\.1 200 OK[^]*slow$/)
})

test('S5: fastify.close() closes a connection handed back to HTTP that is idle', async (t) => {
  const app = await build(t)
  app.get('/echo', echo, async () => 'plain echo')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'nope'))
  await c.until('plain echo')
  await app.close()
  await c.closed
  t.ok(c.socket.destroyed)
})

test('a route without upgrade serves upgrade requests as plain HTTP, with its own body limit', async (t) => {
  const app = await build(t, { maxBodySize: 4 })
  app.post('/plain', async (request) => `got ${String(request.body).length}`)
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/plain', 'echo/1', ['Content-Type: text/plain', 'Content-Length: 1000'], 'POST') + 'x'.repeat(1000))
  t.match(await c.until('got 1000'), /^HTTP\/1\.1 200 OK\r\n/)
})

test('U10: an upgrade pipelined after a response that closes the connection is never served', async (t) => {
  const app = await build(t)
  app.get('/a', async (_request, reply) => {
    // Kept: the pipelined upgrade arrives while this answer is still under way (what is tested).
    await new Promise((resolve) => setTimeout(resolve, 20))
    return reply.header('connection', 'close').send('a')
  })
  app.get('/echo', echo, async () => 'plain echo')
  const port = await listen(app)
  const c = client(t, port)
  c.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n' + upgradeRequest('/echo', 'echo/1'))
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\na$/)
})
