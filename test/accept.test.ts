import type { Socket } from 'node:net'
import type { FastifyRequest } from 'fastify'
import { test } from 'tap'
import { accepted, build, client, delivered, listen, upgradeRequest } from './helpers'

const switched = (token: string): string => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${token}\r\nConnection: upgrade\r\n\r\n`

test('U5, S2: the 101 names the protocol as the client sent it, with Connection: upgrade and no body', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'foo/2, ECHO/1'))
  const text = await c.until('\r\n\r\n')
  t.equal(text, switched('ECHO/1'))
  c.write('ping')
  t.equal(await c.until('ping'), switched('ECHO/1') + 'ping', 'the connection now speaks the new protocol')
})

test('U8: bytes sent right after the request are the first bytes the handler reads', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1') + 'early bytes')
  t.equal(await c.until('early bytes'), switched('echo/1') + 'early bytes')
})

/** Writes the body Fastify parsed, then echoes. */
function bodyThenEcho (socket: Socket, request: FastifyRequest): void {
  socket.write(`body=${JSON.stringify(request.body)};`)
  socket.pipe(socket)
}

test('U8: a Content-Length body is parsed by Fastify for the handler, and only what follows it reaches the protocol', async (t) => {
  const app = await build(t)
  app.post('/echo', { upgrade: { protocols: { echo: bodyThenEcho } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  const body = '{"n":1}'
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: application/json', `Content-Length: ${body.length}`], 'POST') + body + 'next')
  t.equal(await c.until('next'), switched('echo/1') + 'body={"n":1};next')
})

test('U8: a chunked body with extensions and trailers, sent in pieces, is parsed the same way', async (t) => {
  const app = await build(t)
  app.post('/echo', { upgrade: { protocols: { echo: bodyThenEcho } } }, async () => 'plain')
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: application/json', 'Transfer-Encoding: chunked'], 'POST'))
  const socket = await serverSide
  const pieces = ['4;ext=1\r\n{"n"', '\r\n', '3;x\r', '\n:22\r\n1\r\n}\r', '\n0\r\nTrailer-A: 1\r\n', '\r\nafter']
  for (const piece of pieces) {
    // Each piece is a read of its own: the server has read everything before it.
    await delivered(c, socket)
    c.write(piece)
  }
  t.equal(await c.until('after'), switched('echo/1') + 'body={"n":22};after')
})

test('U8: a GET body is read (and dropped) before the switch', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  const port = await listen(app)
  const serverSide = accepted(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Length: 10']) + '01234')
  await delivered(c, await serverSide)
  t.equal(c.text, '', 'no 101 while the body is incomplete')
  c.write('56789tail')
  t.equal(await c.until('tail'), switched('echo/1') + 'tail')
})

test('U7: with Expect: 100-continue the 100 precedes the 101, once, and the body is read after it', async (t) => {
  const app = await build(t)
  app.post('/echo', {
    upgrade: { protocols: { echo: (socket: Socket, request) => { socket.end(`body=${String(request.body)}`) } } }
  }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: text/plain', 'Content-Length: 5', 'Expect: 100-continue'], 'POST'))
  t.equal(await c.until('\r\n\r\n'), 'HTTP/1.1 100 Continue\r\n\r\n', 'the client is told to send its body')
  c.write('hello')
  await c.closed
  t.equal(c.text, 'HTTP/1.1 100 Continue\r\n\r\n' + switched('echo/1') + 'body=hello')
})

test('U7: Expect: 100-continue without a body still gets its 100 before the 101', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end('bye') } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Expect: 100-Continue']))
  await c.closed
  t.equal(c.text, 'HTTP/1.1 100 Continue\r\n\r\n' + switched('echo/1') + 'bye')
})

test('S3: every hook from onRequest to preHandler runs before the switch, with the parsed body', async (t) => {
  const app = await build(t)
  const seen: string[] = []
  app.addHook('onRequest', async () => { seen.push('onRequest') })
  app.addHook('preParsing', async () => { seen.push('preParsing') })
  app.addHook('preValidation', async (request) => { seen.push(`preValidation:${String(request.body)}`) })
  app.addHook('preHandler', async () => { seen.push('preHandler') })
  app.post('/echo', {
    upgrade: { protocols: { echo: (socket: Socket) => { seen.push('switched'); socket.end() } } }
  }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: text/plain', 'Content-Length: 2'], 'POST') + 'hi')
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 101 /)
  t.same(seen, ['onRequest', 'preParsing', 'preValidation:hi', 'preHandler', 'switched'])
})

test('the handler gets the Fastify request, with params, query and decorations', async (t) => {
  const app = await build(t)
  app.decorateRequest('user', '')
  app.addHook('onRequest', async (request) => { (request as unknown as { user: string }).user = 'ada' })
  app.get('/rooms/:room', {
    upgrade: {
      protocols: {
        echo: (socket: Socket, request) => {
          const { room } = request.params as { room: string }
          const { q } = request.query as { q: string }
          socket.end(`${room} ${q} ${(request as unknown as { user: string }).user} ${request.ip}`)
        }
      }
    }
  }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/rooms/42?q=x', 'echo/1'))
  await c.closed
  t.equal(c.text, switched('echo/1') + '42 x ada 127.0.0.1')
})
