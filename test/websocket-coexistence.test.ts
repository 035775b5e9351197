import type { Socket } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import { test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import { client, listen, upgradeRequest } from './helpers'

declare module '../types/index' {
  interface UpgradeProtocols { echo: Socket }
}

const { websocket, raw } = fastifyUpgrade

async function register (app: FastifyInstance, order: 'upgrade first' | 'websocket first'): Promise<void> {
  const ours = async () => { await app.register(fastifyUpgrade, { protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] })] }) }
  const theirs = async () => { await app.register(fastifyWebsocket) }
  if (order === 'upgrade first') {
    await ours()
    await theirs()
  } else {
    await theirs()
    await ours()
  }
}

async function reply (port: number, path: string): Promise<string> {
  const c = new WsClient(`ws://127.0.0.1:${port}${path}`)
  try {
    return await new Promise((resolve, reject) => {
      c.once('message', (data) => resolve(String(data)))
      c.once('error', reject)
    })
  } finally {
    c.terminate()
  }
}

for (const order of ['upgrade first', 'websocket first'] as const) {
  test(`with @fastify/websocket registered, ${order}: both kinds of route and raw upgrades work`, async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await register(app, order)
    app.get('/theirs', { websocket: true }, (socket) => { socket.send('from @fastify/websocket') })
    app.get('/theirs/:room', { websocket: true }, (socket, request) => { socket.send(`room ${(request.params as { room: string }).room}`) })
    app.get('/ours', { upgrade: { protocols: { websocket: (socket) => { socket.send('from fastify-upgrade') } } } }, async () => 'plain')
    app.get('/echo', { upgrade: { protocols: { echo: (socket) => { socket.pipe(socket) } } } }, async () => 'plain')
    app.get('/page', async () => 'a page')
    const port = await listen(app)

    t.equal(await reply(port, '/theirs'), 'from @fastify/websocket')
    t.equal(await reply(port, '/theirs/7?x=1'), 'room 7')
    t.equal(await reply(port, '/ours'), 'from fastify-upgrade')

    const echo = client(t, port)
    echo.write(upgradeRequest('/echo', 'echo/1') + 'ping')
    t.match(await echo.until('ping'), /^HTTP\/1\.1 101 [^]*\r\n\r\nping$/, 'a raw upgrade is ours, not a 400 from ws')

    const h2c = client(t, port)
    h2c.write(upgradeRequest('/page', 'h2c', ['HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA']))
    t.match(await h2c.until('a page'), /^HTTP\/1\.1 200 /, 'an upgrade nobody speaks is served as HTTP')

    const plain = await fetch(`http://127.0.0.1:${port}/ours`)
    t.equal(await plain.text(), 'plain')
  })
}

test('a WebSocket request for a route of neither plugin keeps @fastify/websocket behaviour', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await register(app, 'upgrade first')
  app.get('/page', async () => 'a page')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/page', 'websocket', ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']))
  // @fastify/websocket keeps its own behaviour for what is not ours: it accepts, then closes.
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 101 /)
})
