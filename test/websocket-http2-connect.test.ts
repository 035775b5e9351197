import { channel } from 'node:diagnostics_channel'
import { once } from 'node:events'
import type { ClientHttp2Session, ServerHttp2Stream } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { Writable } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import { constants, inflateRawSync } from 'node:zlib'
import Fastify from 'fastify'
import { test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import type { ProtocolAdapter } from '../types/index'
import { END_HEADERS, frame, HEADERS, headerBlock, PREFACE, SETTINGS } from '../lib/adapters/h2c/frames'
import { connectSession, encodeFrame, openWebSocket, TEXT } from '../bench/h2-websocket-client'
import { eventually } from './helpers'
import { parseFrames } from './h2c-helpers'
import { certificate } from './tls-helpers'
import { mainTransports, serve, transports } from './websocket-http2-helpers'

const { websocket } = fastifyUpgrade

/** Sends a CONNECT without `:protocol` and answers its status. */
async function plainConnect (session: ClientHttp2Session): Promise<number> {
  const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false })
  const [headers] = await once(stream, 'response') as [Record<string, unknown>]
  stream.close()
  return headers[':status'] as number
}

for (const transport of mainTransports) {
  test(`E1 (${transport.name}): no route takes an extended CONNECT, so none is announced; a plain CONNECT still gets 405`, async (t) => {
    const { connect } = await serve(t, transport, (app) => {
      app.get('/plain', async () => 'plain')
    })
    const session = await connect()
    t.equal(session.remoteSettings.enableConnectProtocol, false)
    t.equal(await plainConnect(session), 405, "Node's own answer")
  })

  test(`E1 (${transport.name}): websocket({ http2: false }) turns RFC 8441 off`, async (t) => {
    const { connect, url } = await serve(t, transport, (app) => {
      app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('hi') } } } }, async () => 'plain')
    }, { http2: false })
    const session = await connect()
    t.equal(session.remoteSettings.enableConnectProtocol, false)
    t.equal(await plainConnect(session), 405)
    if (transport.h2c) {
      const ws = new WsClient(url.replace('http', 'ws') + '/chat')
      const [message] = await once(ws, 'message') as [Buffer]
      t.equal(message.toString(), 'hi', 'HTTP/1.1 WebSockets still work')
      ws.close()
      await once(ws, 'close')
    }
  })

  test(`E1, E2 (${transport.name}): what is not a WebSocket route gets the status RFC 9220 and RFC 9110 name`, async (t) => {
    let plainRan = false
    const { connect } = await serve(t, transport, (app) => {
      app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('hi') } } } }, async () => 'plain')
      app.get('/rooms/:id', { upgrade: { protocols: { websocket: (socket) => { socket.send('room') } } } }, async () => 'plain')
      app.route({ method: ['GET', 'POST'], url: '/rooms/list', handler: async () => { plainRan = true; return 'plain' } })
      app.get('/plain', async () => { plainRan = true; return 'plain' })
      app.route({ method: ['POST', 'PUT'], url: '/chat', handler: async () => { plainRan = true; return 'plain' } })
    })
    const session = await connect()
    t.equal(session.remoteSettings.enableConnectProtocol, true)
    const unknown = await openWebSocket(session, '/chat', { protocol: 'webtransport' })
    t.equal(unknown.status, 501, 'a :protocol no adapter speaks: 501 (RFC 9220 §3)')
    t.match(JSON.parse(unknown.body), { code: 'FST_ERR_UPGRADE_CONNECT_PROTOCOL' })
    t.equal((await openWebSocket(session, '/chat', { protocol: 'x/1/2' })).status, 501, 'nor one that is not a token')
    const nowhere = await openWebSocket(session, '/nowhere')
    t.equal(nowhere.status, 404, 'a path without a route: 404')
    t.match(JSON.parse(nowhere.body), { code: 'FST_ERR_UPGRADE_NO_ROUTE' })
    t.equal((await openWebSocket(session, '/plain')).status, 501, 'a route that does not take it: 501')
    t.equal((await openWebSocket(session, '/rooms/list')).status, 501, 'nor a plain route beside a websocket one that a router would prefer')
    t.equal(plainRan, false, 'no plain handler answered a CONNECT')
    const room = await openWebSocket(session, '/rooms/7')
    t.equal(room.status, 200)
    t.equal(await room.ws?.text(), 'room')
    room.ws?.close()
    await room.ws?.closed
    t.equal(await plainConnect(session), 405, 'a plain CONNECT: 405, as without the plugin')
  })

  test(`W2, W4 (${transport.name}): the WebSocket checks apply over HTTP/2 (no Sec-WebSocket-Key is needed)`, async (t) => {
    const { connect } = await serve(t, transport, (app) => {
      app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('hi') } } } }, async () => 'plain')
    }, { allowedOrigins: ['https://good.example'] })
    const session = await connect()
    const version = await openWebSocket(session, '/chat', { headers: { 'sec-websocket-version': '8' } })
    t.equal(version.status, 426)
    t.equal(version.headers['sec-websocket-version'], '13')
    t.equal((await openWebSocket(session, '/chat', { headers: { origin: 'https://evil.example' } })).status, 403)
    const good = await openWebSocket(session, '/chat', { headers: { origin: 'https://good.example' } })
    t.equal(good.status, 200)
    t.equal(await good.ws?.text(), 'hi')
    good.ws?.close()
    await good.ws?.closed
  })

  test(`E2 (${transport.name}): permessage-deflate is negotiated as on HTTP/1.1`, async (t) => {
    const offer = 'permessage-deflate; client_max_window_bits'
    const { connect, app } = await serve(t, transport, (app) => {
      app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => { socket.send(data) }) } } } }, async () => 'plain')
    }, { perMessageDeflate: true })
    const session = await connect()
    const { status, headers, ws } = await openWebSocket(session, '/chat', { headers: { 'sec-websocket-extensions': offer } })
    t.equal(status, 200)
    if (transport.h2c) {
      const http1 = await app.injectWS('/chat', { headers: { 'sec-websocket-extensions': offer } })
      t.equal(headers['sec-websocket-extensions'], http1.extensions, 'the answer HTTP/1.1 gets')
      http1.terminate()
    }
    t.equal(headers['sec-websocket-extensions'], 'permessage-deflate')
    ws?.send('a message the server compresses')
    const echoed = await ws?.next()
    t.equal(echoed?.rsv1, true, 'compressed (RSV1)')
    t.equal(inflateRawSync(Buffer.concat([echoed?.payload as Buffer, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }).toString(), 'a message the server compresses')
    ws?.close()
    await ws?.closed
  })
}

test('a stream the client resets while the hooks run is let go', async (t) => {
  let release = (): void => {}
  let entered = (): void => {}
  const inHook = new Promise<void>((resolve) => { entered = resolve })
  let handled = false
  const { connect } = await serve(t, transports[0], (app) => {
    app.addHook('onRequest', async (request) => {
      if (request.url !== '/chat') return
      const stream = (request.raw as unknown as { stream: ServerHttp2Stream }).stream
      const released = new Promise<void>((resolve) => { release = resolve })
      entered()
      await released
      if (!stream.destroyed) await once(stream, 'close')
    })
    app.get('/chat', { upgrade: { protocols: { websocket: () => { handled = true } } } }, async () => 'plain')
    app.get('/plain', async () => 'plain')
  })
  const session = await connect()
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat', ':authority': 'localhost', 'sec-websocket-version': '13' }, { endStream: false })
  stream.on('error', () => {})
  await inHook
  stream.close(8)
  release()
  await once(stream, 'close')
  const after = session.request({ ':path': '/plain' })
  after.resume()
  await once(after, 'end')
  t.equal(handled, false, 'no handler ran for a stream gone')
})

test('logs and diagnostics: a WebSocket over HTTP/2 is an upgraded connection', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString())); done() } })
  const messages: Array<Record<string, unknown>> = []
  const onUpgrade = (message: unknown): void => { messages.push({ upgrade: (message as { protocol: string }).protocol }) }
  const onClose = (message: unknown): void => { messages.push({ close: (message as { details: unknown }).details }) }
  channel('fastify-upgrade.upgrade').subscribe(onUpgrade)
  channel('fastify-upgrade.close').subscribe(onClose)
  t.teardown(() => {
    channel('fastify-upgrade.upgrade').unsubscribe(onUpgrade)
    channel('fastify-upgrade.close').unsubscribe(onClose)
  })
  const { connect } = await serve(t, transports[0], (app) => {
    app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.close(1000, 'bye') } } } }, async () => 'plain')
  }, {}, {}, { logger: { stream } } as never)
  const session = await connect()
  const { ws } = await openWebSocket(session, '/chat')
  await ws?.closed
  await eventually(() => messages.length >= 2)
  t.same(messages, [{ upgrade: 'websocket' }, { close: { code: 1000, reason: '' } }], 'the close as the client answered it')
  t.match(lines.find((line) => line.msg === 'connection upgraded'), { res: { statusCode: 200 }, responseTime: Number, adapter: 'websocket', protocol: 'websocket', route: '/chat' })
  t.match(lines.find((line) => line.msg === 'upgraded connection closed'), { adapter: 'websocket', details: { code: 1000 } })
})

test('a third-party adapter takes extended CONNECT through the public contract', async (t) => {
  const failures: unknown[] = []
  const echo: ProtocolAdapter = {
    name: 'echo',
    tokens: ['echo/1'],
    check (request, _reply, token) {
      return request.headers['x-refuse'] === undefined && { 'x-echo': token }
    },
    extendedConnect: {
      protocol: 'echo',
      connect (ctx) {
        if (ctx.request.headers['x-throw'] !== undefined) throw new Error('cannot')
        if (ctx.request.headers['x-reject'] !== undefined) return Promise.reject(new Error('later'))
        ctx.stream.pipe(ctx.stream)
      }
    },
    switch () {}
  }
  // Without request logging the plugin logs no lines of its own either.
  const app = Fastify({ http2: true, disableRequestLogging: true })
  await app.register(fastifyUpgrade, { protocols: [echo, websocket()] })
  app.get('/echo', { upgrade: { protocols: { echo: () => {} } as never } }, async () => 'plain')
  app.get('/chat', { upgrade: { protocols: { websocket: () => {} } } }, async () => 'plain')
  app.log.error = ((obj: { err?: unknown }) => { failures.push(obj.err) }) as typeof app.log.error
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const session = await connectSession(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
  t.teardown(() => session.destroy())
  const open = (headers: Record<string, string> = {}): ReturnType<typeof session.request> =>
    session.request({ ':method': 'CONNECT', ':protocol': 'echo', ':scheme': 'http', ':path': '/echo', ':authority': 'localhost', ...headers }, { endStream: false })
  const stream = open()
  const [headers] = await once(stream, 'response') as [Record<string, unknown>]
  t.equal(headers[':status'], 200)
  t.equal(headers['x-echo'], 'echo')
  stream.end('round trip')
  let echoed = ''
  stream.setEncoding('utf8').on('data', (chunk: string) => { echoed += chunk })
  await once(stream, 'end')
  t.equal(echoed, 'round trip')
  const refused = open({ 'x-refuse': '1' })
  const [refusedHeaders] = await once(refused, 'response') as [Record<string, unknown>]
  t.equal(refusedHeaders[':status'], 501, 'check() returning false refuses with 501')
  refused.close()
  const failing = open({ 'x-throw': '1' })
  failing.on('error', () => {})
  await new Promise((resolve) => failing.once('close', resolve))
  t.equal(failing.rstCode, 2, 'a connect() that throws resets its stream with INTERNAL_ERROR')
  const rejecting = open({ 'x-reject': '1' })
  rejecting.on('error', () => {})
  await new Promise((resolve) => rejecting.once('close', resolve))
  t.equal(rejecting.rstCode, 2, 'so does one whose promise rejects')
  t.equal(failures.filter((error) => (error as { code?: string }).code === 'FST_ERR_UPGRADE_HANDLER').length, 2, 'both are logged')
  const wrong = open({ ':protocol': 'websocket' })
  const [wrongHeaders] = await once(wrong, 'response') as [Record<string, unknown>]
  t.equal(wrongHeaders[':status'], 501, 'the websocket :protocol to an echo route: 501')
  wrong.close()
})

test('E1, H3: an h2c session upgraded from HTTP/1.1 takes an extended CONNECT too', async (t) => {
  const { app } = await serve(t, transports[3], (app) => {
    app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'upgraded')
    app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => { socket.send(`echo: ${data.toString()}`) }) } } } }, async () => 'plain')
  })
  const port = (app.server.address() as { port: number }).port
  const socket = netConnect(port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  let received = Buffer.alloc(0)
  let waiting: (() => void) | undefined
  socket.on('data', (chunk: Buffer) => { received = Buffer.concat([received, chunk]); waiting?.() })
  const until = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise<void>((resolve) => { waiting = resolve })
  }
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n')
  await until(() => received.includes('\r\n\r\n'))
  const headEnd = received.indexOf('\r\n\r\n') + 4
  t.match(received.subarray(0, headEnd).toString(), /^HTTP\/1\.1 101 /)
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  const frames = (): ReturnType<typeof parseFrames>['frames'] => parseFrames(received.subarray(headEnd)).frames
  await until(() => frames().some((f) => f.type === SETTINGS && f.flags === 0))
  const settings = frames().find((f) => f.type === SETTINGS && f.flags === 0)?.payload as Buffer
  const values = new Map<number, number>()
  for (let i = 0; i < settings.length; i += 6) values.set(settings.readUInt16BE(i), settings.readUInt32BE(i + 2))
  t.equal(values.get(8), 1, 'SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 on the upgraded session')
  // ACK the server's SETTINGS (nghttp2 takes :protocol once they are acknowledged), then CONNECT on stream 3.
  socket.write(frame(SETTINGS, 1, 0, Buffer.alloc(0)))
  socket.write(frame(HEADERS, END_HEADERS, 3, headerBlock([
    [':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/chat'], [':authority', 'localhost'], ['sec-websocket-version', '13']
  ])))
  await until(() => frames().some((f) => f.type === HEADERS && f.stream === 3))
  t.equal(frames().find((f) => f.type === HEADERS && f.stream === 3)?.payload[0], 0x88, ':status 200 (HPACK static index 8)')
  socket.write(frame(0, 0, 3, encodeFrame(TEXT, 'hi')))
  await until(() => frames().some((f) => f.type === 0 && f.stream === 3))
  const data = frames().find((f) => f.type === 0 && f.stream === 3)?.payload as Buffer
  t.equal(data.subarray(2).toString(), 'echo: hi', 'frames flow on the stream')
})

test('a plain CONNECT is left to another connect listener; over HTTP/1.1 (allowHTTP1) it is closed as Node closes it', async (t) => {
  const { app, connect } = await serve(t, transports[1], (app) => {
    app.get('/chat', { upgrade: { protocols: { websocket: () => {} } } }, async () => 'plain')
  })
  const port = (app.server.address() as { port: number }).port
  const http1 = tlsConnect({ port, host: '127.0.0.1', ca: certificate().cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] })
  t.teardown(() => http1.destroy())
  let received = ''
  http1.on('data', (chunk: Buffer) => { received += chunk.toString() })
  http1.on('error', () => {})
  http1.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  await once(http1, 'close')
  t.equal(received, '', 'closed without an answer')

  app.server.on('connect', (req: { httpVersionMajor: number }, res: { writeHead: (status: number) => { end: () => void } }) => {
    if (req.httpVersionMajor === 2) res.writeHead(200).end()
  })
  const session = await connect()
  t.equal(await plainConnect(session), 200, "the app's own listener answers")
})
