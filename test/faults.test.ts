import { once } from 'node:events'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import { PREFACE } from '../lib/adapters/h2c/frames'
import { build, client, listen, logs, upgradeRequest, type RawClient } from './helpers'
import { none, settled } from './faults-helpers'

const H2C = upgradeRequest('/', 'h2c', ['HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA']).replace('Connection: upgrade', 'Connection: upgrade, HTTP2-Settings')

/** An app with every adapter that reads from the client before it takes over: raw, WebSocket and h2c. */
async function app (t: Test, handler?: (socket: Socket) => unknown): Promise<{ app: FastifyInstance, port: number }> {
  const app = await build(t, { protocols: [fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] }), fastifyUpgrade.websocket(), fastifyUpgrade.h2c()] })
  const echo = handler ?? ((socket: Socket) => { socket.pipe(socket) })
  app.post('/echo', { upgrade: { protocols: { echo } } }, async () => 'plain')
  app.get('/echo', { upgrade: { protocols: { echo } } }, async () => 'plain')
  app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => socket.send(data)) } } } }, async () => 'plain')
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'over h2c')
  return { app, port: await listen(app) }
}

/** Resets the connection once what was received holds `needle` (or at once for ''). */
async function resetAfter (c: RawClient, needle: string): Promise<void> {
  await c.until(needle)
  c.socket.resetAndDestroy()
  await c.closed
}

test('resets at every stage before the switch leave nothing tracked and no socket', async (t) => {
  const { app: server, port } = await app(t)
  const accepted = once(server.server, 'connection')
  const head = client(t, port)
  head.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: upgr')
  await accepted
  const body = client(t, port)
  body.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: text/plain', 'Content-Length: 100', 'Expect: 100-continue'], 'POST'))
  // The body is being read: the switch waits for the rest of it.
  await body.until('100 Continue\r\n\r\n')
  body.write('abc')
  await Promise.all([resetAfter(head, ''), resetAfter(body, '')])
  t.same(await settled(server), none(server))
})

test('a reset right after the 101 ends the upgraded connection', async (t) => {
  const { app: server, port } = await app(t)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await resetAfter(c, '\r\n\r\n')
  t.match(c.text, /^HTTP\/1\.1 101 /)
  t.same(await settled(server), none(server))
})

test('H5: resets during the h2c preface, after the 101 and with prior knowledge, leave nothing', async (t) => {
  const { app: server, port } = await app(t)
  const upgraded = client(t, port)
  upgraded.write(H2C)
  await upgraded.until('\r\n\r\n')
  t.match(upgraded.text, /^HTTP\/1\.1 101 /)
  upgraded.write(PREFACE.subarray(0, 10))
  const accepted = once(server.server, 'connection')
  const prior = client(t, port)
  prior.write(PREFACE.subarray(0, 10))
  await accepted
  await Promise.all([resetAfter(upgraded, ''), resetAfter(prior, '')])
  t.same(await settled(server), none(server))
})

test('a reset during the WebSocket closing handshake ends the connection', async (t) => {
  const { app: server, port } = await app(t)
  const ws = new WsClient(`ws://127.0.0.1:${port}/chat`)
  ws.on('error', () => {})
  await once(ws, 'open')
  t.same(server.upgrade.connections().websocket, 1)
  ws.close(1000)
  ;(ws as unknown as { _socket: Socket })._socket.resetAndDestroy()
  await once(ws, 'close')
  t.same(await settled(server), none(server))
})

for (const [kind, handler] of [
  ['throws', () => { throw new Error('sync') }],
  ['rejects', async () => { throw new Error('async') }]
] as const) {
  test(`S7: a hand-off handler that ${kind} is logged, its connection destroyed, and the server goes on`, async (t) => {
    const log = logs()
    const server = await build(t, {}, { logger: { level: 'error', stream: log.stream } })
    server.get('/echo', { upgrade: { protocols: { echo: handler } } }, async () => 'plain')
    const port = await listen(server)
    const c = client(t, port)
    c.write(upgradeRequest('/echo', 'echo/1'))
    await c.closed
    t.match(c.text, /^HTTP\/1\.1 101 /)
    t.ok(log.lines.some((line) => line.err?.code === 'FST_ERR_UPGRADE_HANDLER'))
    t.same(await settled(server), none(server))
    const next = client(t, port)
    next.write('GET /echo HTTP/1.1\r\nHost: x\r\n\r\n')
    t.match(await next.until('plain'), /^HTTP\/1\.1 200 /)
  })
}

test('S7: a WebSocket handler that throws closes with 1011, and nothing stays tracked', async (t) => {
  const server = await build(t, { protocols: [fastifyUpgrade.websocket()] }, { logger: false })
  server.get('/chat', { upgrade: { protocols: { websocket: () => { throw new Error('sync') } } } }, async () => 'plain')
  const port = await listen(server)
  const ws = new WsClient(`ws://127.0.0.1:${port}/chat`)
  const [code] = await once(ws, 'close')
  t.equal(code, 1011)
  t.same(await settled(server), none(server))
})

for (const hook of ['onRequest', 'preHandler'] as const) {
  test(`the ${hook} hook that throws answers 500, no switch, and the connection stays HTTP/1.1`, async (t) => {
    const server = await build(t)
    server.addHook(hook, async (request) => { if (request.headers.upgrade !== undefined) throw new Error('hook') })
    server.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
    const port = await listen(server)
    const c = client(t, port)
    c.write(upgradeRequest('/echo', 'echo/1'))
    t.match(await c.until('"}'), /^HTTP\/1\.1 500 /)
    c.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await c.closed
    t.match(c.text, /"}HTTP\/1\.1 200 OK[^]*plain$/)
    t.same(await settled(server), none(server))
  })
}
