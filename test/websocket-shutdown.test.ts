import Fastify from 'fastify'
import { test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import { client, listen, upgradeRequest } from './helpers'

const { websocket } = fastifyUpgrade

test('S5: fastify.close() closes every WebSocket with 1001, then ends those that do not answer', async (t) => {
  const app = Fastify()
  await app.register(fastifyUpgrade, { protocols: [websocket()], closeTimeout: 200 })
  app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('hi') } } } }, async () => 'plain')
  app.get('/slow', { upgrade: { protocols: { websocket: { handler: () => new Promise(() => {}) } } } }, async () => 'plain')
  const port = await listen(app)

  const polite = new WsClient(`ws://127.0.0.1:${port}/chat`)
  const pending = new WsClient(`ws://127.0.0.1:${port}/slow`)
  // A client that never answers the closing handshake.
  const deaf = client(t, port)
  deaf.write(upgradeRequest('/chat', 'websocket', ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']))
  await Promise.all([
    new Promise((resolve) => polite.once('message', resolve)),
    new Promise((resolve) => pending.once('open', resolve)),
    deaf.until('hi')
  ])
  const codes = [polite, pending].map((c) => new Promise<number>((resolve) => c.once('close', (code) => resolve(code))))

  await app.close()
  t.same(await Promise.all(codes), [1001, 1001])
  await deaf.closed
  t.match(deaf.text, /^HTTP\/1\.1 101 /)
  // The text frame "hi", then a close frame with code 1001.
  t.same([...deaf.received.subarray(-8)], [0x81, 2, 0x68, 0x69, 0x88, 2, 0x03, 0xe9], 'the unanswering client got 1001, then its connection ended')
})
