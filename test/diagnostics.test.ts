import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import type { ProtocolAdapter } from '../types/index'
import { build, client, listen, upgradeRequest } from './helpers'

const { websocket, raw } = fastifyUpgrade
const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

type Message = Record<string, any>

/** The messages of one channel, kept from now until the test ends, and a way to wait for the next. */
function watch (t: Test, name: string): { messages: Message[], next: () => Promise<Message> } {
  const messages: Message[] = []
  let waiters: Array<(message: Message) => void> = []
  const listener = (message: unknown): void => {
    messages.push(message as Message)
    const woken = waiters
    waiters = []
    for (const wake of woken) wake(message as Message)
  }
  subscribe(name, listener)
  t.teardown(() => { unsubscribe(name, listener) })
  return { messages, next: async () => await new Promise((resolve) => waiters.push(resolve)) }
}

/** A server with a WebSocket echo route, an echo route that also requires an upgrade, and origins checked. */
async function serve (t: Test, options: Parameters<typeof build>[1] = {}): Promise<{ port: number, app: Awaited<ReturnType<typeof build>> }> {
  const app = await build(t, { protocols: [websocket({ allowedOrigins: ['https://example.com'] }), raw({ name: 'echo', tokens: ['echo/1'] })], ...options })
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization === 'no') await reply.code(401).send('who are you?')
  })
  app.get('/chat/:room', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => { socket.send(data) }) } } } }, async () => 'plain')
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } }, required: true } }, async () => 'plain')
  return { port: await listen(app), app }
}

test('upgrade and close messages for a WebSocket round trip; connections() counts it and back to 0', async (t) => {
  const upgrades = watch(t, 'fastify-upgrade.upgrade')
  const closes = watch(t, 'fastify-upgrade.close')
  const { port, app } = await serve(t)
  t.same(app.upgrade.connections(), { websocket: 0, echo: 0 })

  const upgraded = upgrades.next()
  const ws = new WsClient(`ws://127.0.0.1:${port}/chat/lobby`)
  t.teardown(() => ws.terminate())
  await new Promise((resolve) => ws.once('open', resolve))
  const upgrade = await upgraded
  t.match(upgrade, { adapter: 'websocket', protocol: 'websocket', route: '/chat/:room', statusCode: 101, responseTime: Number, request: { url: '/chat/lobby', params: { room: 'lobby' } } })
  t.equal(typeof upgrade.request.id, 'string', 'the Fastify request')
  t.same(app.upgrade.connections(), { websocket: 1, echo: 0 })

  ws.send('hi')
  await new Promise((resolve) => ws.once('message', resolve))
  const closed = closes.next()
  ws.close(1000, 'bye')
  const close = await closed
  t.equal(close.socket, upgrade.socket, 'the same connection')
  t.match(close, { adapter: 'websocket', protocol: 'websocket', route: '/chat/:room', details: { code: 1000, reason: 'bye' } })
  t.ok(close.bytesRead > 0 && close.bytesWritten > 0 && close.responseTime >= upgrade.responseTime)
  t.notOk('request' in close, 'the close outlives the request and does not hold it')
  t.same(app.upgrade.connections(), { websocket: 0, echo: 0 })
})

test('a raw upgrade closes with no protocol details', async (t) => {
  const closes = watch(t, 'fastify-upgrade.close')
  const { port } = await serve(t)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await c.until('\r\n\r\n')
  const closed = closes.next()
  c.socket.end()
  t.match(await closed, { adapter: 'echo', protocol: 'echo/1', route: '/echo', details: {} })
})

test('decline: every upgrade request a route serves as plain HTTP is heard of, with why', async (t) => {
  const declines = watch(t, 'fastify-upgrade.decline')
  // `chat`, a connection type the test helpers declare, for an adapter that declines every request.
  const shy: ProtocolAdapter = { name: 'chat', tokens: ['shy/1'], check: () => false, switch () {} }
  const app = await build(t, { protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] }), shy] })
  app.get('/chat', { upgrade: { protocols: { websocket: () => {}, chat: () => {} } } }, async () => 'plain')
  app.get('/echo', { upgrade: { protocols: { echo: () => {} }, required: true } }, async () => 'plain')
  const port = await listen(app)
  const ask = async (request: string, answer: RegExp): Promise<void> => {
    const c = client(t, port)
    c.write(request)
    t.match(await c.until('\r\n\r\n'), answer)
  }
  // Heard of: a token no adapter speaks, offers the route does not take, an adapter that declines,
  // and an Upgrade that does not count (U3, U12).
  await ask(upgradeRequest('/chat', 'foo/1'), /^HTTP\/1\.1 200 /)
  await ask(upgradeRequest('/chat', 'echo/1, foo'), /^HTTP\/1\.1 200 /)
  await ask(upgradeRequest('/chat', 'shy/1'), /^HTTP\/1\.1 200 /)
  await ask(upgradeRequest('/chat', 'websocket', [], 'HEAD'), /^HTTP\/1\.1 200 /)
  await ask(upgradeRequest('/chat', 'websocket').replace('HTTP/1.1', 'HTTP/1.0'), /^HTTP\/1\.1 200 /)
  // Not declines: no upgrade asked for, and a refusal.
  await ask('GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n', /^HTTP\/1\.1 200 /)
  await ask(upgradeRequest('/echo', 'foo/1'), /^HTTP\/1\.1 426 /)
  t.match(declines.messages, [
    { protocols: ['foo/1'], reason: 'unsupported', request: { url: '/chat' } },
    { protocols: ['echo/1', 'foo'], reason: 'unsupported' },
    { protocols: ['shy/1'], reason: 'declined' },
    { protocols: ['websocket'], reason: 'ignored', request: { method: 'HEAD' } },
    { protocols: ['websocket'], reason: 'ignored' }
  ])
  t.equal(declines.messages.length, 5)
})

test('refuse: 426 for a required upgrade, 403 for a WebSocket origin, 413 and 503 before a switch; a hook\'s own 401 is not one', async (t) => {
  const refusals = watch(t, 'fastify-upgrade.refuse')
  const { port, app } = await serve(t, { maxBodySize: 4, maxConnections: 1 })

  const required = await app.inject({ method: 'GET', url: '/echo' })
  t.equal(required.statusCode, 426)
  t.match(refusals.messages.at(-1), { statusCode: 426, error: { code: 'FST_ERR_UPGRADE_REQUIRED' }, request: { url: '/echo' } })

  const origin = client(t, port)
  origin.write(upgradeRequest('/chat/lobby', 'websocket', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Origin: https://evil.example']))
  t.match(await origin.until('}'), /^HTTP\/1\.1 403 /)
  t.match(refusals.messages.at(-1), { statusCode: 403, error: { code: 'FST_ERR_UPGRADE_FORBIDDEN_ORIGIN' } })

  const large = client(t, port)
  // A GET's body is not Fastify's to parse: the plugin reads it before the switch.
  large.write(upgradeRequest('/echo', 'echo/1', ['Content-Length: 5']) + 'hello')
  t.match(await large.until('}'), /^HTTP\/1\.1 413 /)
  t.match(refusals.messages.at(-1), { statusCode: 413, error: { code: 'FST_ERR_UPGRADE_BODY_TOO_LARGE' } })

  const first = client(t, port)
  first.write(upgradeRequest('/echo', 'echo/1'))
  await first.until('\r\n\r\n')
  const second = client(t, port)
  second.write(upgradeRequest('/echo', 'echo/1'))
  t.match(await second.until('}'), /^HTTP\/1\.1 503 /)
  t.match(refusals.messages.at(-1), { statusCode: 503, error: { code: 'FST_ERR_UPGRADE_TOO_MANY' } })
  t.equal(refusals.messages.length, 4)

  const hook = client(t, port)
  hook.write(upgradeRequest('/chat/lobby', 'websocket', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Authorization: no']))
  t.match(await hook.until('who are you?'), /^HTTP\/1\.1 401 /)
  t.equal(refusals.messages.length, 4, 'the application answered, not the plugin')
})

test('a third-party adapter reports how its connections end, once; an error it throws is a refusal with 500', async (t) => {
  const closes = watch(t, 'fastify-upgrade.close')
  const refusals = watch(t, 'fastify-upgrade.refuse')
  // `chat`, a connection type the test helpers declare.
  const line: ProtocolAdapter = {
    name: 'chat',
    tokens: ['line/1'],
    check (request) {
      if (request.headers['x-fail'] !== undefined) throw new Error('cannot')
    },
    switch (ctx) {
      const reportClose = ctx.reportClose()
      ctx.socket.once('data', (bytes) => {
        reportClose({ said: bytes.toString() })
        reportClose({ said: 'twice' })
        ctx.socket.end()
      })
    }
  }
  const app = await build(t, { protocols: [line] })
  app.get('/line', { upgrade: { protocols: { chat: () => {} } } }, async () => 'plain')
  const port = await listen(app)

  const failing = client(t, port)
  failing.write(upgradeRequest('/line', 'line/1', ['X-Fail: 1']))
  t.match(await failing.until('}'), /^HTTP\/1\.1 500 /)
  t.match(refusals.messages, [{ statusCode: 500, error: { message: 'cannot' } }])

  const c = client(t, port)
  c.write(upgradeRequest('/line', 'line/1'))
  await c.until('\r\n\r\n')
  const closed = closes.next()
  c.write('bye')
  t.match(await closed, { adapter: 'chat', protocol: 'line/1', details: { said: 'bye' } })
  await c.closed
  t.equal(closes.messages.length, 1)
})

test('a subscriber to the upgrade message alone, with no logger, hears of each switch', async (t) => {
  const upgrades = watch(t, 'fastify-upgrade.upgrade')
  const { port } = await serve(t)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  const upgrade = await upgrades.next()
  t.match(upgrade, { adapter: 'echo', protocol: 'echo/1', route: '/echo', statusCode: 101, responseTime: Number })
  c.write('ping')
  t.match(await c.until('ping'), /ping$/, 'the connection is served as ever')
})
