import { once } from 'node:events'
import { connect } from 'node:http2'
import fastifyWebsocket from '@fastify/websocket'
import Fastify, { type RouteOptions } from 'fastify'
import { test } from 'tap'
import WebSocket from 'ws'
import fastifyUpgrade from '../lib/index'
import { build, client, listen } from './helpers'

const { h2c, raw, websocket } = fastifyUpgrade

test('upgrade: \'websocket\': the handler is the WebSocket\'s, and plain HTTP gets 426 naming the version (RFC 6455 §4.2.2)', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  app.get<{ Params: { room: string } }>('/rooms/:room', { upgrade: 'websocket' }, (socket, request) => {
    socket.send(`room ${request.params.room}`)
  })
  const port = await listen(app)

  const ws = new WebSocket(`ws://127.0.0.1:${port}/rooms/7`)
  t.teardown(() => ws.terminate())
  const [message] = await once(ws, 'message')
  t.equal(String(message), 'room 7')

  const c = client(t, port)
  c.write('GET /rooms/7 HTTP/1.1\r\nHost: x\r\n\r\n')
  const text = await c.until('"}')
  t.match(text, /^HTTP\/1\.1 426 Upgrade Required\r\n/)
  t.match(text, /\r\nupgrade: websocket\r\n/)
  t.match(text, /\r\nsec-websocket-version: 13\r\n/i)
  t.match(text, /"code":"FST_ERR_UPGRADE_REQUIRED"/)
})

test('every 426 of a route that names websocket carries Sec-WebSocket-Version; other routes\' do not', async (t) => {
  const app = await build(t, { protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] })] })
  app.get('/both', { upgrade: { protocols: { websocket: () => {}, echo: () => {} }, required: true } }, async () => 'never')
  app.get('/echo', { upgrade: 'echo' }, () => {})
  const both = await app.inject('/both')
  t.equal(both.statusCode, 426)
  t.equal(both.headers.upgrade, 'websocket, echo/1')
  t.equal(both.headers['sec-websocket-version'], '13')
  const echo = await app.inject('/echo')
  t.equal(echo.statusCode, 426)
  t.equal(echo.headers.upgrade, 'echo/1')
  t.equal(echo.headers['sec-websocket-version'], undefined)
})

test('over HTTP/2, where h2c reaches every route, a WebSocket-only route still has no plain answer: 426, without Upgrade', async (t) => {
  const app = await build(t, { protocols: [websocket(), h2c({ allRoutes: true })] })
  app.get('/chat', { upgrade: 'websocket' }, () => {})
  const port = await listen(app)
  const session = connect(`http://127.0.0.1:${port}`)
  t.teardown(() => session.close())
  const stream = session.request({ ':path': '/chat' })
  const [headers] = await once(stream, 'response')
  let body = ''
  stream.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
  await once(stream, 'end')
  t.equal(headers[':status'], 426)
  t.equal(headers.upgrade, undefined)
  t.equal(JSON.parse(body).code, 'FST_ERR_UPGRADE_REQUIRED')
})

test('upgrade: \'<continuation>\' requires that protocol, and the route\'s handler answers over it', async (t) => {
  const app = await build(t, { protocols: [h2c()] })
  app.get('/h2', { upgrade: 'h2c' }, async (request) => `over ${request.raw.httpVersion}`)
  const plain = await app.inject('/h2')
  t.equal(plain.statusCode, 426)
  t.equal(plain.headers.upgrade, 'h2c, HTTP/2, HTTP/2.0')
  const port = await listen(app)
  const session = connect(`http://127.0.0.1:${port}`)
  t.teardown(() => session.close())
  const stream = session.request({ ':path': '/h2' })
  let body = ''
  stream.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
  await once(stream, 'end')
  t.equal(body, 'over 2.0')
})

test('upgrade: \'<name>\' naming no registered adapter fails at startup, naming those registered', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  t.throws(() => app.get('/chat', { upgrade: 'websocket2' as 'websocket' }, () => {}), {
    code: 'FST_ERR_UPGRADE_ROUTE',
    message: 'GET /chat: unknown protocol "websocket2" (registered: websocket)'
  })
})

test('a WebSocket-only route declared before the plugin makes ready() fail; another plugin\'s upgrade string does not', async (t) => {
  const early = Fastify()
  t.teardown(() => early.close())
  early.get('/chat', { upgrade: 'websocket' }, () => {})
  await early.register(fastifyUpgrade, { protocols: [websocket()] })
  await t.rejects(async () => await early.ready(), { code: 'FST_ERR_UPGRADE_UNSEEN_ROUTE', message: /^GET \/chat has an upgrade option/ })

  const other = Fastify()
  t.teardown(() => other.close())
  other.get('/nightly', { upgrade: 'nightly' as 'websocket' }, () => {})
  await other.register(fastifyUpgrade, { protocols: [websocket()] })
  await t.resolves(async () => await other.ready(), 'a name the plugin has no adapter for is not its option')
})

test('a route left over from @fastify/websocket makes ready() fail, naming the fix, unless @fastify/websocket serves its scope', async (t) => {
  for (const option of [{ websocket: true }, { wsHandler: () => {} }]) {
    const app = await build(t, { protocols: [websocket()] })
    app.get('/chat', option, async () => 'plain')
    await t.rejects(async () => await app.ready(), {
      code: 'FST_ERR_UPGRADE_ROUTE',
      message: `GET /chat: \`${'websocket' in option ? 'websocket: true' : 'wsHandler'}\` is an option of @fastify/websocket, which is not registered in ` +
        'this scope: with fastify-upgrade, write `{ upgrade: \'websocket\' }` and keep the handler (docs/websocket.md), or register @fastify/websocket too'
    })
  }

  const scoped = await build(t, { protocols: [websocket()] })
  await scoped.register(async (scope) => {
    await scope.register(fastifyWebsocket)
    scope.get('/theirs', { websocket: true }, (socket) => { socket.close() })
  })
  await scoped.register(async (sibling) => { sibling.get('/sibling', { websocket: true }, async () => 'plain') })
  await t.rejects(async () => await scoped.ready(), { code: 'FST_ERR_UPGRADE_ROUTE', message: /^GET \/sibling: `websocket: true`/ })

  // Without fastify-upgrade on the server, the option is nobody's business of this plugin's.
  const other = Fastify()
  t.teardown(() => other.close())
  other.get('/chat', { websocket: true }, async () => 'plain')
  await t.resolves(async () => await other.ready())
})

test('the registered adapters are reachable from any scope: a broadcast from a route in another plugin', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  app.get('/feed', { upgrade: 'websocket' }, () => {})
  await app.register(async function announcements (scope) {
    scope.post('/announce', async (request) => {
      for (const socket of scope.upgrade.adapter('websocket').clients) socket.send(request.body as string)
      return { sent: scope.upgrade.adapter('websocket').clients.size }
    })
  })
  const port = await listen(app)
  const clients = [new WebSocket(`ws://127.0.0.1:${port}/feed`), new WebSocket(`ws://127.0.0.1:${port}/feed`)]
  t.teardown(() => { for (const ws of clients) ws.terminate() })
  await Promise.all(clients.map(async (ws) => await once(ws, 'open')))
  const received = Promise.all(clients.map(async (ws) => String((await once(ws, 'message'))[0])))
  const response = await app.inject({ method: 'POST', url: '/announce', body: 'hello all', headers: { 'content-type': 'text/plain' } })
  t.same(response.json(), { sent: 2 })
  t.same(await received, ['hello all', 'hello all'])
  t.throws(() => app.upgrade.adapter('h2c'), { code: 'FST_ERR_UPGRADE_OPTIONS', message: 'fastify-upgrade: no adapter named "h2c" is registered (registered: websocket)' })
})

test('an onRoute hook added before the plugin may turn @fastify/websocket\'s routes into WebSocket-only ones', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  // A migration shim: { websocket: true } routes, unchanged, served by fastify-upgrade.
  app.addHook('onRoute', (route: RouteOptions & { websocket?: boolean }) => {
    if (route.websocket !== true) return
    delete route.websocket
    ;(route as { upgrade?: unknown }).upgrade = 'websocket'
  })
  await app.register(fastifyUpgrade, { protocols: [websocket()] })
  app.get('/chat', { websocket: true }, ((socket: WebSocket) => { socket.send('shimmed') }) as never)
  const port = await listen(app)
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`)
  t.teardown(() => ws.terminate())
  t.equal(String((await once(ws, 'message'))[0]), 'shimmed')
  t.equal((await app.inject('/chat')).statusCode, 426)
})
