import type { Socket } from 'node:net'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { ProtocolAdapter } from '../types/index'
import { build, client, listen, upgradeRequest } from './helpers'

const { raw } = fastifyUpgrade

/** A continuation protocol the connection can already speak: the client says so in a header. */
const secure: ProtocolAdapter = {
  name: 'secure',
  tokens: ['SEC/2', 'SEC/1'],
  route: { value: 'continuation', isActive: (request) => request.headers['x-secure'] === 'yes' },
  switch () {}
}

test('U9: a required upgrade not offered gets 426 listing the route\'s tokens in server preference order, with a body', async (t) => {
  const app = await build(t, { protocols: [raw({ name: 'echo', tokens: ['echo/1'] }), raw({ name: 'chat', tokens: ['chat/2', 'chat/1'] })] })
  app.get('/both', {
    upgrade: { protocols: { chat: (socket: Socket) => socket.end(), echo: (socket: Socket) => socket.end() }, required: true }
  }, async () => 'never')
  const port = await listen(app)
  const c = client(t, port)
  c.write('GET /both HTTP/1.1\r\nHost: x\r\n\r\n')
  const text = await c.until('"}')
  t.match(text, /^HTTP\/1\.1 426 Upgrade Required\r\n/)
  t.match(text, /\r\nupgrade: chat\/2, chat\/1, echo\/1\r\n/)
  t.match(text, /\r\nconnection: upgrade\r\n/)
  t.match(text, /"message":"This resource is only served after an upgrade to chat\/2, chat\/1, echo\/1"/)
  t.notMatch(text, /never/)
})

test('U9: 426 also answers an upgrade to another protocol, and the connection stays usable', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } }, required: true } }, async () => 'never')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'websocket'))
  await c.until('"}')
  t.match(c.text, /^HTTP\/1\.1 426 Upgrade Required\r\n[^]*upgrade: echo\/1\r\n/)
  c.write(upgradeRequest('/echo', 'echo/1') + 'then')
  t.match(await c.until('then'), /101 Switching Protocols\r\nUpgrade: echo\/1\r\nConnection: upgrade\r\n\r\nthen$/)
})

test('U9: inject() sees the 426 of a required route', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } }, required: true } }, async () => 'never')
  const response = await app.inject('/echo')
  t.equal(response.statusCode, 426)
  t.equal(response.headers.upgrade, 'echo/1')
  t.equal(response.headers.connection, 'upgrade')
  t.equal(response.json().code, 'FST_ERR_UPGRADE_REQUIRED')
})

test('no 426 when the connection already speaks a required protocol (isActive)', async (t) => {
  const app = await build(t, { protocols: [secure] })
  app.get('/secret', { upgrade: { protocols: { secure: true }, required: true } }, async () => 'the secret')
  const active = await app.inject({ url: '/secret', headers: { 'x-secure': 'yes' } })
  t.equal(active.statusCode, 200)
  t.equal(active.body, 'the secret')
  const inactive = await app.inject('/secret')
  t.equal(inactive.statusCode, 426)
  t.equal(inactive.headers.upgrade, 'SEC/2, SEC/1')
})

test('a route that does not require the upgrade serves plain requests as usual', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } } } }, async () => 'plain')
  const response = await app.inject('/echo')
  t.equal(response.statusCode, 200)
  t.equal(response.body, 'plain')
})
