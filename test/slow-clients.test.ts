import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { test, type Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { PREFACE } from '../lib/adapters/h2c/frames'
import { build, client, listen, upgradeRequest } from './helpers'
import { dribble, none, settled } from './faults-helpers'

// Small, so that each dribble outlasts it many times over; one byte every EVERY ms.
const handshakeTimeout = 300
const EVERY = 50
const H2C = upgradeRequest('/', 'h2c', ['HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA']).replace('Connection: upgrade', 'Connection: upgrade, HTTP2-Settings')

async function app (t: Test, fastifyOptions?: FastifyServerOptions): Promise<{ app: FastifyInstance, port: number }> {
  const app = await build(t, { protocols: [fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] }), fastifyUpgrade.h2c()], handshakeTimeout }, fastifyOptions)
  app.post('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'over h2c')
  return { app, port: await listen(app) }
}

test('S5: an upgrade request head dribbled is answered 408 within the server\'s headersTimeout, set as the README shows', async (t) => {
  // Fastify's `http` option (FastifyHttpOptions), which the helper's wider type does not list.
  const http = { http: { headersTimeout: handshakeTimeout, connectionsCheckingInterval: 100 } } as FastifyServerOptions
  const { app: server, port } = await app(t, http)
  const c = client(t, port)
  const took = await dribble(c.socket, Buffer.from(upgradeRequest('/echo', 'echo/1', ['Content-Length: 0'], 'POST')), EVERY)
  t.ok(took < handshakeTimeout + 1000, `closed after ${took} ms`)
  t.match(c.text, /^HTTP\/1\.1 408 /)
  t.same(await settled(server), none(server))
})

test('S5: an upgrade request body dribbled is answered 408 at handshakeTimeout', async (t) => {
  const { app: server, port } = await app(t)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1', ['Content-Type: text/plain', 'Content-Length: 100'], 'POST'))
  const took = await dribble(c.socket, Buffer.alloc(100, 'a'), EVERY)
  t.ok(took < handshakeTimeout + 1000, `closed after ${took} ms`)
  t.equal(c.text, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  t.same(await settled(server), none(server))
})

test('H5, S5: a prior-knowledge preface dribbled is closed at handshakeTimeout, unanswered', async (t) => {
  const { app: server, port } = await app(t)
  const c = client(t, port)
  const took = await dribble(c.socket, PREFACE, EVERY)
  t.ok(took < handshakeTimeout + 1000, `closed after ${took} ms`)
  t.equal(c.text, '')
  t.same(await settled(server), none(server))
})

test('H5, S5: a silent connection is closed at handshakeTimeout when the server sniffs for the preface', async (t) => {
  const { app: server, port } = await app(t)
  const start = Date.now()
  const c = client(t, port)
  await c.closed
  const took = Date.now() - start
  t.ok(took < handshakeTimeout + 1000, `closed after ${took} ms`)
  t.same(await settled(server), none(server))
})

test('S5: an h2c preface dribbled after the 101 is closed at handshakeTimeout', async (t) => {
  const { app: server, port } = await app(t)
  const c = client(t, port)
  c.write(H2C)
  await c.until('\r\n\r\n')
  t.match(c.text, /^HTTP\/1\.1 101 /)
  const took = await dribble(c.socket, PREFACE, EVERY)
  t.ok(took < handshakeTimeout + 1000, `closed after ${took} ms`)
  t.same(await settled(server), none(server))
})
