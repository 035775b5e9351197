import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import { WebSocket as WsClient, type WebSocket } from 'ws'
import fastifyUpgrade from '../lib/index'
import type { WebSocketOptions } from '../types/index'
import { openWebSocket } from '../bench/h2-websocket-client'
import { build, listen, logs } from './helpers'
import { mainTransports, serve as serveHttp2 } from './websocket-http2-helpers'

const { websocket } = fastifyUpgrade
const CHUNK = 16 * 1024

interface Message {
  websocket: WebSocket
  policy: string | number
  bufferedAmount: number
  limit: number
}

/** The `fastify-upgrade.slow-client` messages published while the test runs. */
function slowMessages (t: Test): Message[] {
  const messages: Message[] = []
  const listener = (message: unknown): void => { messages.push(message as Message) }
  subscribe('fastify-upgrade.slow-client', listener)
  t.teardown(() => { unsubscribe('fastify-upgrade.slow-client', listener) })
  return messages
}

/** What the server did once its client asked for it, as `/feed` below does it. */
interface Fill {
  socket: WebSocket
  /** Messages `0`, `1`, … sent until more than the limit was waiting. */
  sent: number
  /** What the send callback of the next message got. */
  refused: Error | undefined
}

/**
 * Sends numbered messages until more than `limit` bytes wait for the client (it reads nothing by
 * then: the kernel's buffers fill first), then one more, `'over'`, which the guard refuses. Without
 * a guard, `'over'` is queued: its callback would wait for the client, so it gets none.
 */
async function fill (socket: WebSocket, limit: number, guarded = true): Promise<Fill> {
  let sent = 0
  while (socket.bufferedAmount <= limit) socket.send(String(sent++).padEnd(CHUNK, '.'))
  if (!guarded) {
    socket.send('over')
    return { socket, sent, refused: undefined }
  }
  const refused = await new Promise<Error | undefined>((resolve) => { socket.send('over', resolve) })
  return { socket, sent, refused }
}

/** An app whose `/feed` fills its client once the client says `fill`, and answers `again` with `later`. */
async function feed (t: Test, options: WebSocketOptions, limit: number): Promise<{ app: FastifyInstance, port: number, ws: ReturnType<typeof websocket>, filled: Promise<Fill> }> {
  const ws = websocket(options)
  const app = await build(t, { protocols: [ws] })
  let done: (fill: Fill) => void = () => {}
  const filled = new Promise<Fill>((resolve) => { done = resolve })
  app.get('/feed', {
    upgrade: {
      protocols: {
        websocket: (socket) => {
          socket.on('message', (data) => {
            if (String(data) === 'fill') fill(socket, limit).then(done, t.error)
            else socket.send('later')
          })
        }
      }
    }
  }, async () => 'plain')
  return { app, port: await listen(app), ws, filled }
}

/** A client that reads nothing once open, until `resume()`; `messages` collects what it reads. */
async function silentClient (t: Test, port: number): Promise<{ c: WsClient, messages: string[], closed: Promise<[number, string]> }> {
  const c = new WsClient(`ws://127.0.0.1:${port}/feed`)
  t.teardown(() => c.terminate())
  const messages: string[] = []
  c.on('message', (data) => { messages.push(String(data)) })
  const closed = once(c, 'close').then(([code, reason]) => [code, String(reason)] as [number, string])
  await once(c, 'open')
  c.pause()
  c.send('fill')
  return { c, messages, closed }
}

/** Messages `0` to `sent - 1`, in order, as `fill` sent them. */
function numbered (sent: number): string[] {
  return Array.from({ length: sent }, (_, i) => String(i).padEnd(CHUNK, '.'))
}

test('S8, on by default: a client that reads nothing is closed with 1013 once 1 MiB waits for it, and after everything sent before', async (t) => {
  const published = slowMessages(t)
  const { stream, lines } = logs()
  const ws = websocket()
  const app = await build(t, { protocols: [ws] }, { logger: { stream } })
  let done: (fill: Fill) => void = () => {}
  const filled = new Promise<Fill>((resolve) => { done = resolve })
  app.get('/feed', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', () => { fill(socket, 1024 * 1024).then(done, t.error) }) } } } }, async () => 'plain')
  const { c, messages, closed } = await silentClient(t, await listen(app))

  const { socket, sent, refused } = await filled
  t.match(refused, { code: 'FST_ERR_UPGRADE_WEBSOCKET_SLOW', message: /^Not sent: \d+ bytes were still waiting for this client, more than maxBufferedAmount \(1048576\)$/ })
  t.equal(socket.readyState, socket.CLOSING, 'the server closes it')
  t.same(ws.slowClients, { skipped: 0, closed: 1 })
  t.equal(published.length, 1)
  t.equal(published[0].websocket, socket)
  t.equal(published[0].policy, 1013)
  t.equal(published[0].limit, 1024 * 1024)
  t.ok(published[0].bufferedAmount > 1024 * 1024 && published[0].bufferedAmount <= 1024 * 1024 + CHUNK + 4, 'at most one message beyond the limit waits')

  // A closing WebSocket is ws's again: a send fails as ws says, and is neither counted nor published.
  const late = await new Promise<Error | undefined>((resolve) => { socket.send('late', resolve) })
  t.match(late, { message: 'WebSocket is not open: readyState 2 (CLOSING)' })
  t.same(ws.slowClients, { skipped: 0, closed: 1 })
  t.equal(published.length, 1)

  c.resume()
  t.same(await closed, [1013, 'client too slow'], 'the close frame comes after what was sent before')
  t.same(messages, numbered(sent), 'every message before it, in order, and nothing after')
  await app.close()
  const closeLine = lines.find((line) => line.msg === 'upgraded connection closed')
  t.same(closeLine?.details, { code: 1013, reason: 'client too slow' }, 'the close line says what the server sent')
})

test('S8: slowClient: \'skip\' leaves the message out for that client only, counts each one, and sends again once the client reads', async (t) => {
  const published = slowMessages(t)
  const { ws, port, filled } = await feed(t, { maxBufferedAmount: 65536, slowClient: 'skip' }, 65536)
  const { c, messages } = await silentClient(t, port)
  const { socket, sent, refused } = await filled
  t.match(refused, { code: 'FST_ERR_UPGRADE_WEBSOCKET_SLOW' })
  // No callback: nothing to tell, nothing thrown.
  socket.send('over again')
  t.same(ws.slowClients, { skipped: 2, closed: 0 })
  t.same(published.map(({ policy, limit }) => [policy, limit]), [['skip', 65536], ['skip', 65536]])
  t.equal(socket.readyState, socket.OPEN)

  c.resume()
  while (messages.length < sent) await once(c, 'message')
  c.send('again')
  await once(c, 'message')
  t.same(messages, [...numbered(sent), 'later'], 'the skipped messages are missing, the next one arrives')
})

test('S8: fragments of a message always go, so the client never gets a message cut or run into the next', async (t) => {
  const { port, ws, filled } = await feed(t, { maxBufferedAmount: 65536, slowClient: 'skip' }, 65536)
  const { c, messages } = await silentClient(t, port)
  const { socket, sent } = await filled
  socket.send('a', { fin: false })
  socket.send('b', { fin: false })
  socket.send('c', () => {})
  socket.send('whole', { binary: false })
  t.same(ws.slowClients, { skipped: 2, closed: 0 }, '\'over\' and \'whole\', not the fragments')
  c.resume()
  while (messages.length < sent + 1) await once(c, 'message')
  t.same(messages.slice(sent), ['abc'])
})

test('a message larger than the limit goes out on a short queue; maxBufferedAmount: 0 turns the guard off', async (t) => {
  const ws = websocket({ maxBufferedAmount: 0 })
  const app = await build(t, { protocols: [ws] })
  let done: (fill: Fill) => void = () => {}
  const filled = new Promise<Fill>((resolve) => { done = resolve })
  app.get('/feed', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', () => { fill(socket, 4 * 1024 * 1024, false).then(done, t.error) }) } } } }, async () => 'plain')
  const { c, messages } = await silentClient(t, await listen(app))
  const { socket, sent } = await filled
  t.ok(socket.bufferedAmount > 4 * 1024 * 1024, 'more than the default limit waits')
  t.same(ws.slowClients, { skipped: 0, closed: 0 })
  c.resume()
  while (messages.length < sent + 1) await once(c, 'message')
  t.same(messages.slice(sent), ['over'])

  const small = websocket({ maxBufferedAmount: 1 })
  const other = await build(t, { protocols: [small] })
  other.get('/big', { upgrade: { protocols: { websocket: (socket) => { socket.send(Buffer.alloc(CHUNK)) } } } }, async () => 'plain')
  const client = new WsClient(`ws://127.0.0.1:${await listen(other)}/big`)
  t.teardown(() => client.terminate())
  const [data] = await once(client, 'message')
  t.equal((data as Buffer).length, CHUNK)
  t.same(small.slowClients, { skipped: 0, closed: 0 })
})

for (const transport of mainTransports) {
  test(`S8 on RFC 8441 streams alike (${transport.name}): slowClient: 1008 closes with Policy Violation`, async (t) => {
    const published = slowMessages(t)
    let done: (fill: Fill) => void = () => {}
    const filled = new Promise<Fill>((resolve) => { done = resolve })
    const options: WebSocketOptions = { maxBufferedAmount: 65536, slowClient: 1008 }
    const { connect } = await serveHttp2(t, transport, (app) => {
      app.get('/feed', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', () => { fill(socket, 65536).then(done, t.error) }) } } } }, async () => 'plain')
    }, options)
    const { ws } = await openWebSocket(await connect(), '/feed')
    if (ws === undefined) throw new Error('no WebSocket')
    ws.stream.pause()
    ws.send('fill')
    const { socket, sent, refused } = await filled
    t.match(refused, { code: 'FST_ERR_UPGRADE_WEBSOCKET_SLOW' })
    t.equal(socket.readyState, socket.CLOSING)
    t.same(published.map(({ websocket, policy }) => [websocket, policy]), [[socket, 1008]])
    ws.stream.resume()
    const received: string[] = []
    for (let frame = await ws.next(); frame !== undefined; frame = await ws.next()) received.push(frame.payload.toString())
    t.same(received, numbered(sent))
    t.match(await ws.closed, { code: 1008, reason: 'client too slow' })
  })
}
