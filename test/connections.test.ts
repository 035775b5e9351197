import type { Socket } from 'node:net'
import { test } from 'tap'
import type { ProtocolAdapter } from '../types/index'
import { build, client, closeOf, listen, logs, upgradeRequest } from './helpers'

async function connectionCount (app: { server: { getConnections: (cb: (error: Error | null, count: number) => void) => void } }): Promise<number> {
  return await new Promise((resolve) => app.server.getConnections((_, count) => resolve(count)))
}

test('S5: handshakeTimeout cuts off an upgrade request whose body never comes, with 408 as Node answers a request that takes too long', async (t) => {
  const log = logs()
  const app = await build(t, { handshakeTimeout: 100 }, { logger: { level: 'debug', stream: log.stream } })
  app.post('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: text/plain', 'Content-Length: 10'], 'POST') + 'abc')
  await c.closed
  t.equal(c.text, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  t.ok(log.lines.some((line) => line.msg === 'fastify-upgrade: handshake timeout' && line.url === '/echo'))
})

test('S5: handshakeTimeout cuts off a hook that never finishes', async (t) => {
  const app = await build(t, { handshakeTimeout: 100 })
  app.addHook('preHandler', () => new Promise(() => {}))
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await c.closed
  t.equal(c.text, '')
})

test('S5: handshakes under way at once are each bounded by their own deadline: one that switches meanwhile leaves the others to theirs', async (t) => {
  const app = await build(t, { handshakeTimeout: 200 })
  const arrived = new Map<string, () => void>()
  let release: (() => void) | undefined
  // `x-name: b` waits until released; the others never get past the hook.
  app.addHook('preHandler', (request, _reply, done) => {
    const name = request.headers['x-name'] as string
    if (name === 'b') release = done
    arrived.get(name)?.()
  })
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  const port = await listen(app)
  const clients: Record<string, ReturnType<typeof client>> = {}
  // In turn, so that their deadlines come in this order.
  for (const name of ['a', 'b', 'c']) {
    const hooked = new Promise<void>((resolve) => { arrived.set(name, resolve) })
    clients[name] = client(t, port)
    clients[name].write(upgradeRequest('/echo', 'echo/1', [`X-Name: ${name}`]))
    await hooked
  }
  release?.()
  t.match(await clients.b.until('\r\n\r\n'), /^HTTP\/1\.1 101 /, 'the one in the middle switches')
  await Promise.all([clients.a.closed, clients.c.closed])
  t.equal(clients.a.text + clients.c.text, '', 'the first and the last are cut off, unanswered')
  clients.b.write('still here')
  t.match(await clients.b.until('still here'), /still here$/, 'the switched one is no longer bounded')
})

test('S5: handshakeTimeout: 0 lifts the bound, as for Fastify\'s own timeouts: a hook that outlasts another request still switches', async (t) => {
  const app = await build(t, { handshakeTimeout: 0 })
  let inHook: () => void = () => {}
  const reachedHook = new Promise<void>((resolve) => { inHook = resolve })
  let release: () => void = () => {}
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.headers.upgrade === undefined) return done()
    release = done
    inHook()
  })
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await reachedHook
  // Another client's whole request and answer pass while the handshake waits in its hook.
  const other = client(t, port)
  other.write('GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  t.match(await other.until('plain'), /^HTTP\/1\.1 200 OK/)
  release()
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 101 /)
  c.write('still here')
  t.match(await c.until('still here'), /still here$/)
})

test('handshakeTimeout lets a declined answer already under way finish', async (t) => {
  const app = await build(t, { handshakeTimeout: 50 })
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } } } }, async (_request, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/plain' })
    reply.raw.write('slow ')
    // Kept: what is tested is an answer that outlives handshakeTimeout (50 ms), not a synchronisation.
    await new Promise((resolve) => setTimeout(resolve, 150))
    reply.raw.end('answer')
  })
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'nope'))
  t.match(await c.until('answer'), /^HTTP\/1\.1 200 OK[^]*slow [^]*answer/)
})

test('S5: beyond maxConnections an upgrade gets 503 with Retry-After; a closed one frees its place', async (t) => {
  const app = await build(t, { maxConnections: 1 })
  const upgraded: Socket[] = []
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { upgraded.push(socket); socket.pipe(socket) } } } }, async () => 'plain')
  const port = await listen(app)
  const first = client(t, port)
  first.write(upgradeRequest('/echo', 'echo/1'))
  await first.until('\r\n\r\n')
  const second = client(t, port)
  second.write(upgradeRequest('/echo', 'echo/1'))
  const refused = await second.until('"}')
  t.match(refused, /^HTTP\/1\.1 503 Service Unavailable\r\n/)
  t.match(refused, /\r\nretry-after: 5\r\n/)
  t.match(refused, /FST_ERR_UPGRADE_TOO_MANY/)
  first.close()
  // The server's side of the first connection closes: the plugin counted it until then.
  await closeOf(upgraded[0])
  const third = client(t, port)
  third.write(upgradeRequest('/echo', 'echo/1'))
  t.match(await third.until('\r\n\r\n'), /^HTTP\/1\.1 101 /)
})

test('S5: fastify.close() ends upgraded connections and does not hang', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  const port = await listen(app)
  const clients = [client(t, port), client(t, port), client(t, port)]
  for (const c of clients) c.write(upgradeRequest('/echo', 'echo/1'))
  for (const c of clients) await c.until('\r\n\r\n')
  await app.close()
  for (const c of clients) {
    await c.closed
    t.ok(c.socket.destroyed)
  }
  t.equal(await connectionCount(app), 0)
})

test('S5: fastify.close() destroys what is still open after closeTimeout', async (t) => {
  const stubborn: ProtocolAdapter = {
    name: 'stubborn',
    tokens: ['stubborn'],
    switch (ctx) {
      ctx.onServerClose(() => {})
    }
  }
  const app = await build(t, { protocols: [stubborn], closeTimeout: 100 })
  app.get('/', { upgrade: { protocols: { stubborn: () => {} } } as never }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'stubborn'))
  await c.until('\r\n\r\n')
  await app.close()
  await c.closed
  t.equal(await connectionCount(app), 0)
})

test('S5: fastify.close() closes an upgrade request still in its hooks, and connections upgraded meanwhile', async (t) => {
  const app = await build(t, { closeTimeout: 100 })
  let release: () => void = () => {}
  let inHook: () => void = () => {}
  const reachedHook = new Promise<void>((resolve) => { inHook = resolve })
  app.addHook('preHandler', () => new Promise<void>((resolve) => { release = resolve; inHook() }))
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.write('late') } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await reachedHook
  const closing = app.close()
  release()
  await closing
  await c.closed
  t.equal(await connectionCount(app), 0)
})

test('an adapter decides how its connections close on fastify.close()', async (t) => {
  const polite: ProtocolAdapter = {
    name: 'polite',
    tokens: ['polite'],
    switch (ctx) {
      ctx.onServerClose(() => { ctx.socket.end('goodbye') })
    }
  }
  const app = await build(t, { protocols: [polite] })
  app.get('/', { upgrade: { protocols: { polite: () => {} } } as never }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'polite'))
  await c.until('\r\n\r\n')
  await app.close()
  await c.closed
  t.match(c.text, /\r\n\r\ngoodbye$/)
})

test('a closer that throws does not stop the others from closing', async (t) => {
  const rude: ProtocolAdapter = {
    name: 'rude',
    tokens: ['rude'],
    switch (ctx) {
      ctx.onServerClose(() => { throw new Error('nope') })
    }
  }
  const app = await build(t, { protocols: [rude] })
  app.get('/', { upgrade: { protocols: { rude: () => {} } } as never }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'rude'))
  await c.until('\r\n\r\n')
  await app.close()
  await c.closed
  t.ok(c.socket.destroyed)
})

for (const how of ['throws', 'rejects']) {
  test(`a handler that ${how}: logged, its socket destroyed, the server unharmed`, async (t) => {
    const log = logs()
    const app = await build(t, {}, { logger: { level: 'info', stream: log.stream } })
    app.get('/boom', {
      upgrade: {
        protocols: {
          echo: how === 'throws'
            ? () => { throw new Error('kaboom') }
            : async () => { throw new Error('kaboom') }
        }
      }
    }, async () => 'plain')
    app.get('/ok', async () => 'still fine')
    const port = await listen(app)
    const c = client(t, port)
    c.write(upgradeRequest('/boom', 'echo/1'))
    await c.closed
    t.match(c.text, /^HTTP\/1\.1 101 /)
    const entry = log.lines.find((line) => line.msg === 'fastify-upgrade: handler failed')
    t.equal(entry?.level, 50)
    t.equal(entry?.err.code, 'FST_ERR_UPGRADE_HANDLER')
    t.match(entry?.err.message, 'The echo handler of /boom failed')
    t.match(JSON.stringify(entry?.err), /kaboom/)
    const ok = await app.inject('/ok')
    t.equal(ok.body, 'still fine')
  })
}
