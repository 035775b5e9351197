import { once } from 'node:events'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import fastifyWebsocket from '@fastify/websocket'
import Fastify from 'fastify'
import { test } from 'tap'
import type { WebSocket } from 'ws'
import fastifyUpgrade from '../lib/index'
import type { InjectWSError } from '../types/index'
import { build, logs } from './helpers'

const { raw, websocket } = fastifyUpgrade

/** What a connection's client end reads until `needle` arrives. */
async function readUntil (socket: Duplex, needle: string): Promise<string> {
  return await new Promise((resolve) => {
    let text = ''
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1')
      if (!text.includes(needle)) return
      socket.removeListener('data', onData)
      socket.pause()
      resolve(text)
    }
    socket.on('data', onData)
    socket.resume()
  })
}

async function nextMessage (ws: WebSocket): Promise<string> {
  const [data] = await once(ws, 'message')
  return String(data)
}

test('W3: injectWS round-trips messages with no port, onInit and onOpen called in turn', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  const seen: string[] = []
  app.get('/chat', {
    upgrade: { protocols: { websocket: (socket, request) => { socket.on('message', (data) => { socket.send(`${request.ip} said ${String(data)}`) }) } } }
  }, async () => 'plain')
  const ws = await app.injectWS('/chat', {}, {
    onInit: (created) => { seen.push(`init ${created.readyState}`) },
    onOpen: (opened) => { seen.push(`open ${opened.readyState}`) }
  })
  t.same(seen, ['init 0', 'open 1'])
  t.equal(ws.readyState, 1)
  t.equal(app.server.listening, false, 'no port was opened')
  ws.send('hello')
  t.equal(await nextMessage(ws), '127.0.0.1 said hello', 'the in-memory connection has a loopback peer address')
  ws.send('again')
  t.equal(await nextMessage(ws), '127.0.0.1 said again')

  // fastify.close() closes it like any upgraded connection: 1001 Going Away.
  const closed = once(ws, 'close')
  await app.close()
  const [code] = await closed
  t.equal(code, 1001)
})

test('W4: a hook that refuses makes injectWS reject with the status; headers reach the hooks', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization !== 'Bearer ok') await reply.code(401).send({ error: 'who are you' })
  })
  app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('welcome') } } } }, async () => 'plain')
  await app.ready()

  const refused = await app.injectWS('/chat').then(() => undefined, (error: InjectWSError) => error)
  t.ok(refused instanceof Error)
  t.equal(refused?.code, 'FST_ERR_UPGRADE_UNEXPECTED_RESPONSE')
  t.equal(refused?.message, 'Unexpected server response: 401')
  t.equal(refused?.statusCode, 401)
  t.equal(refused?.headers['content-type'], 'application/json; charset=utf-8')
  t.same(JSON.parse(refused?.body as string), { error: 'who are you' })

  // Headers from the upgrade context (@fastify/websocket's argument) or from ws's options.
  for (const [context, options] of [[{ headers: { authorization: 'Bearer ok' } }, {}], [{}, { headers: { authorization: 'Bearer ok' } }]]) {
    const ws = await app.injectWS('/chat', context, options)
    t.equal(await nextMessage(ws), 'welcome')
    ws.terminate()
  }
})

test('W3: injectWS offers subprotocols from its options; ws\'s own client options apply', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  app.get('/chat', {
    upgrade: { protocols: { websocket: { protocols: ['chat.v2', 'chat.v1'], handler: (socket) => { socket.send(socket.protocol) } } } }
  }, async () => 'plain')
  await app.ready()

  const ws = await app.injectWS('/chat', {}, { protocols: ['chat.v1', 'other'] })
  t.equal(ws.protocol, 'chat.v1')
  t.equal(await nextMessage(ws), 'chat.v1')
  ws.close()

  // The route speaks none of them, so the 101 names none, which ws refuses: its error is injectWS's rejection.
  const none = await app.injectWS('/chat', {}, { protocols: 'other' }).then(() => undefined, (error: Error) => error)
  t.equal(none?.message, 'Server sent no subprotocol')
})

test('close codes and reasons travel both ways over the in-memory connection', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  const serverSaw: Array<Promise<[number, string]>> = []
  app.get('/bye', {
    upgrade: {
      protocols: {
        websocket: (socket) => {
          socket.on('message', (data) => { if (String(data) === 'kick') socket.close(4001, 'kicked') })
          serverSaw.push(new Promise((resolve) => socket.on('close', (code, reason) => { resolve([code, String(reason)]) })))
        }
      }
    }
  }, async () => 'plain')
  await app.ready()

  const kicked = await app.injectWS('/bye')
  kicked.send('kick')
  const [code, reason] = await once(kicked, 'close')
  t.same([code, String(reason)], [4001, 'kicked'], 'a server close reaches the client')

  const leaving = await app.injectWS('/bye')
  const closed = once(leaving, 'close')
  leaving.close(4002, 'leaving')
  t.same(await serverSaw[1], [4002, 'leaving'], 'a client close reaches the server')
  const [echoed] = await closed
  t.equal(echoed, 4002, 'and the server\'s close frame echoes it')
})

test('the close lines of injected connections count the bytes both ways, as a socket\'s do', async (t) => {
  const log = logs()
  const app = await build(t, { protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] })] }, { logger: { stream: log.stream } })
  app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => { socket.send(data) }) } } } }, async () => 'plain')
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  await app.ready()
  const ws = await app.injectWS('/chat')
  ws.send('hello')
  await nextMessage(ws)
  ws.close(1000)
  const { socket } = await app.injectUpgrade('/echo', { upgrade: 'echo/1' })
  socket?.end('ping')
  await log.next((line) => line.msg === 'upgraded connection closed' && line.adapter === 'websocket')
  await log.next((line) => line.msg === 'upgraded connection closed' && line.adapter === 'echo')
  for (const closed of log.lines.filter((line) => line.msg === 'upgraded connection closed')) {
    // The request head and what the client sent came in; the 101 and what the server sent went out.
    t.ok(closed.bytesRead > 80 && closed.bytesWritten > 70, `${closed.adapter}: ${closed.bytesRead} read, ${closed.bytesWritten} written`)
  }
})

test('U5, U8: injectUpgrade switches to a raw protocol and its connection echoes bytes', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')

  const res = await app.injectUpgrade('/echo', { upgrade: 'echo/1' })
  t.equal(res.statusCode, 101)
  t.equal(res.headers.upgrade, 'echo/1')
  t.equal(res.headers.connection, 'upgrade')
  t.equal(res.body, '')
  t.equal(res.rawPayload.length, 0)
  t.equal(app.server.listening, false)
  const socket = res.socket as Duplex
  socket.write('ping')
  t.equal(await readUntil(socket, 'ping'), 'ping')
  socket.write(Buffer.from([0, 1, 255]))
  t.same([...Buffer.from(await readUntil(socket, '\xff'), 'latin1')], [0, 1, 255], 'bytes, not text')

  // fastify.close() ends it, as any upgraded connection: the client end reads the end.
  const ended = once(socket, 'end')
  socket.resume()
  await app.close()
  await ended
})

test('U8: injectUpgrade sends a body with its Content-Length, and the bytes after it reach the protocol', async (t) => {
  const app = await build(t)
  app.post('/echo', {
    upgrade: { protocols: { echo: (socket: Socket, request) => { socket.write(`${request.headers['content-length']}:${String(request.body)}|`); socket.pipe(socket) } } }
  }, async () => 'plain')

  const res = await app.injectUpgrade('/echo', { upgrade: 'echo/1', method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'the body' })
  t.equal(res.statusCode, 101)
  const socket = res.socket as Duplex
  socket.write('after')
  t.equal(await readUntil(socket, 'after'), '8:the body|after')
  socket.destroy()
})

test('U9, U10: injectUpgrade gives the status, headers and body of a declined or required upgrade', async (t) => {
  const app = await build(t)
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain echo')
  app.get('/only', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } }, required: true } }, async () => 'never')

  const declined = await app.injectUpgrade('/echo', { upgrade: 'other/1' })
  t.equal(declined.statusCode, 200, 'a protocol nobody speaks: served as HTTP')
  t.equal(declined.body, 'plain echo')
  t.equal(declined.rawPayload.toString(), 'plain echo')
  t.equal(declined.socket, null)

  const plain = await app.injectUpgrade('/echo')
  t.equal(plain.statusCode, 200, 'no upgrade asked: a plain request')
  t.equal(plain.body, 'plain echo')

  const required = await app.injectUpgrade('/only', { upgrade: 'other/1' })
  t.equal(required.statusCode, 426)
  t.equal(required.headers.upgrade, 'echo/1')
  t.equal(required.headers.connection, 'upgrade')
  t.match(required.body, /echo\/1/)
  t.equal(required.socket, null)

  // Declined connections were closed by the client end: nothing is left for fastify.close() to wait on.
  await app.close()
})

test('an in-memory connection times out as a socket does: Fastify\'s connectionTimeout closes a stuck request', async (t) => {
  const app = await build(t, {}, { connectionTimeout: 100 })
  app.get('/fast', async () => 'fast')
  app.get('/stuck', async () => await new Promise(() => {}))

  const fast = await app.injectUpgrade('/fast', { upgrade: 'echo/1' })
  t.equal(fast.body, 'fast', 'reads and writes keep it alive')
  await t.rejects(app.injectUpgrade('/stuck'), { message: 'socket hang up' })
})

test('injectWS before ready(), as inject: alone or with @fastify/websocket registered in either order, it is this plugin\'s and serves both plugins\' routes', async (t) => {
  for (const order of ['alone', 'upgrade first', 'websocket first']) {
    const app = Fastify()
    t.teardown(() => app.close())
    const ours = async (): Promise<void> => { await app.register(fastifyUpgrade, { protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] })] }) }
    const theirs = async (): Promise<void> => { await app.register(fastifyWebsocket) }
    if (order === 'websocket first') await theirs()
    await ours()
    if (order === 'upgrade first') await theirs()
    app.get('/ours', { upgrade: 'websocket' }, (socket) => { socket.send('from fastify-upgrade') })
    const paths = order === 'alone' ? ['/ours'] : ['/theirs', '/ours']
    if (order !== 'alone') app.get('/theirs', { websocket: true }, (socket) => { socket.send('from @fastify/websocket') })

    for (const path of paths) {
      let message: Promise<string> | undefined
      // Listening from the start: the first message may come with the 101.
      const ws = await app.injectWS(path, {}, { onInit: (ws) => { message = nextMessage(ws) } })
      t.equal(await message, `from ${path === '/ours' ? 'fastify-upgrade' : '@fastify/websocket'}`, `${path}, ${order}`)
      ws.terminate()
    }
    await app.close()
  }
})
