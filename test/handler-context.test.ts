import type { Socket } from 'node:net'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest } from './helpers'

declare module 'fastify' {
  interface FastifyInstance {
    greeting?: string
  }
}

const { raw, websocket } = fastifyUpgrade

/** A connected client, and its first message (which may come with the handshake's last bytes). */
async function open (t: Parameters<typeof build>[0], url: string): Promise<{ c: WsClient, first: Promise<string> }> {
  const c = new WsClient(url)
  t.teardown(() => c.terminate())
  const first = once(c, 'message').then(([data]) => String(data))
  await once(c, 'open')
  return { c, first }
}

test('hand-off handlers run with the route\'s encapsulated instance as `this`, as route handlers do', async (t) => {
  const app = await build(t, { protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] })] })
  await app.register(async (scope) => {
    scope.decorate('greeting', 'hello from the scope')
    scope.get('/chat', {
      upgrade: { protocols: { websocket (this: FastifyInstance, socket) { socket.send(String(this.greeting)) } } }
    }, async () => 'plain')
    scope.get('/echo', {
      upgrade: { protocols: { echo (this: FastifyInstance, socket: Socket) { socket.end(`${String(this.greeting)}\n`) } } }
    }, async () => 'plain')
  })
  const port = await listen(app)

  t.equal(await (await open(t, `ws://127.0.0.1:${port}/chat`)).first, 'hello from the scope')

  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nhello from the scope\n$/)
})

test('the websocket adapter keeps its open clients, for broadcast; a closed one leaves the set', async (t) => {
  const ws = websocket()
  const app = await build(t, { protocols: [ws] })
  const leaving: Array<Promise<unknown>> = []
  app.get('/room', {
    upgrade: {
      protocols: {
        websocket (socket) {
          leaving.push(once(socket, 'close'))
          socket.on('message', (data) => {
            for (const peer of ws.clients) peer.send(`${ws.clients.size}: ${String(data)}`)
          })
        }
      }
    }
  }, async () => 'plain')
  const port = await listen(app)

  const alice = await open(t, `ws://127.0.0.1:${port}/room`)
  const bob = await open(t, `ws://127.0.0.1:${port}/room`)
  bob.c.send('hi all')
  t.same(await Promise.all([alice.first, bob.first]), ['2: hi all', '2: hi all'], 'both clients got the broadcast')

  bob.c.close()
  await leaving[1]
  const again = once(alice.c, 'message')
  alice.c.send('who is here')
  t.equal(String((await again)[0]), '1: who is here')
})

test('clientTracking: false keeps no clients', async (t) => {
  const ws = websocket({ clientTracking: false })
  const app = await build(t, { protocols: [ws] })
  app.get('/room', { upgrade: { protocols: { websocket (socket) { socket.send(String(ws.clients.size)) } } } }, async () => 'plain')
  const port = await listen(app)
  t.equal(await (await open(t, `ws://127.0.0.1:${port}/room`)).first, '0')
  t.throws(() => websocket({ clientTracking: 'yes' as unknown as boolean }), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /clientTracking must be a boolean/ })
})
