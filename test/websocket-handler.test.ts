import { Writable } from 'node:stream'
import { setImmediate as tick } from 'node:timers/promises'
import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import { build, listen } from './helpers'

const { websocket } = fastifyUpgrade

/** Opens a client that sends `messages` as soon as the handshake is done; answers it and its close. */
function connect (t: Test, port: number, path: string, messages: string[] = []) {
  const c = new WsClient(`ws://127.0.0.1:${port}${path}`)
  t.teardown(() => c.terminate())
  c.once('open', () => { for (const message of messages) c.send(message) })
  const closed = new Promise<number>((resolve) => c.once('close', (code) => resolve(code)))
  return { c, closed }
}

test('messages sent right after the handshake reach an async handler that listens late', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  app.get('/late', {
    upgrade: {
      protocols: {
        websocket: async (socket) => {
          for (let i = 0; i < 5; i++) await tick()
          const received: string[] = []
          socket.on('message', (data) => {
            received.push(String(data))
            if (received.length === 3) socket.send(received.join(','))
          })
        }
      }
    }
  }, async () => 'plain')
  app.get('/never', { upgrade: { protocols: { websocket: async (socket) => { socket.send('ready') } } } }, async () => 'plain')
  const port = await listen(app)

  const { c } = connect(t, port, '/late', ['a', 'b', 'c'])
  t.equal(await new Promise((resolve) => c.once('message', (data) => resolve(String(data)))), 'a,b,c')

  // A handler that never listens: once it settles, the socket flows, so pings and closes are answered.
  const quiet = connect(t, port, '/never')
  await new Promise((resolve) => quiet.c.once('message', resolve))
  const pong = new Promise((resolve) => quiet.c.once('pong', (data) => resolve(String(data))))
  quiet.c.ping('p')
  t.equal(await pong, 'p')
  quiet.c.close(1000)
  t.equal(await quiet.closed, 1000)
})

test('a handler that throws or rejects closes its socket with 1011 and logs; the server goes on', async (t) => {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  const app = await build(t, { protocols: [websocket()] }, { logger: { level: 'error', stream } })
  app.get('/throws', { upgrade: { protocols: { websocket: () => { throw new Error('sync boom') } } } }, async () => 'plain')
  app.get('/rejects', { upgrade: { protocols: { websocket: async () => { throw new Error('async boom') } } } }, async () => 'plain')
  app.get('/ok', { upgrade: { protocols: { websocket: (socket) => { socket.send('still here') } } } }, async () => 'plain')
  const port = await listen(app)

  t.equal(await connect(t, port, '/throws').closed, 1011)
  t.equal(await connect(t, port, '/rejects').closed, 1011)
  const errors = lines.filter((line) => line.msg === 'fastify-upgrade: websocket handler failed')
  t.equal(errors.length, 2)
  t.equal(errors[0].err.code, 'FST_ERR_UPGRADE_HANDLER')
  t.match(errors.map((line) => line.err.message), [/websocket handler of \/throws/, /websocket handler of \/rejects/])

  const ok = connect(t, port, '/ok')
  t.equal(await new Promise((resolve) => ok.c.once('message', (data) => resolve(String(data)))), 'still here')
})

test('ws protocol errors (a message over maxPayload) close with 1009 and do not crash', async (t) => {
  const app = await build(t, { protocols: [websocket({ maxPayload: 8 })] })
  const echo = (socket: import('ws').WebSocket) => { socket.on('message', (data) => { socket.send(data) }) }
  app.get('/small', { upgrade: { protocols: { websocket: echo } } }, async () => 'plain')
  app.get('/large', { upgrade: { protocols: { websocket: { handler: echo, maxPayload: 0 } } } }, async () => 'plain')
  const port = await listen(app)

  t.equal(await connect(t, port, '/small', ['123456789']).closed, 1009)
  const large = connect(t, port, '/large', ['x'.repeat(100000)])
  t.equal(await new Promise((resolve) => large.c.once('message', (data) => resolve(String(data).length))), 100000, 'route maxPayload 0: no limit')
})
