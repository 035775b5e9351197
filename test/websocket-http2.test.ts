import { once } from 'node:events'
import { test } from 'tap'
import type { WebSocket } from 'ws'
import { openWebSocket } from '../bench/h2-websocket-client'
import { eventually } from './helpers'
import { mainTransports, serve, transports } from './websocket-http2-helpers'

for (const transport of transports) {
  test(`E2, E3 (${transport.name}): an extended CONNECT to a websocket route gets 200, then frames flow both ways`, async (t) => {
    const seen: Array<Record<string, unknown>> = []
    const { connect } = await serve(t, transport, (app) => {
      app.addHook('onRequest', async (request) => {
        seen.push({ hook: 'onRequest', method: request.method, protocol: request.headers[':protocol'], rawMethod: request.headers[':method'] })
      })
      app.get('/chat', {
        upgrade: {
          protocols: {
            websocket: {
              protocols: ['chat.v2', 'chat.v1'],
              handler: (socket, request) => {
                seen.push({ handler: request.raw.httpVersion, protocol: socket.protocol })
                socket.send('hello')
                socket.on('message', (data) => { socket.send(`echo: ${data.toString()}`) })
              }
            }
          }
        }
      }, async () => 'plain')
    })
    const session = await connect()
    t.equal(session.remoteSettings.enableConnectProtocol, true, 'E1: SETTINGS_ENABLE_CONNECT_PROTOCOL = 1')
    const { status, headers, ws } = await openWebSocket(session, '/chat?room=1', { protocols: ['chat.v1', 'chat.v2'] })
    t.equal(status, 200, 'a 200, not a 101')
    t.equal(headers['sec-websocket-protocol'], 'chat.v1', 'the subprotocol, negotiated as on HTTP/1.1')
    for (const name of ['sec-websocket-accept', 'upgrade', 'connection', 'sec-websocket-extensions']) t.equal(headers[name], undefined, `no ${name}`)
    if (ws === undefined) throw new Error('no WebSocket')
    t.equal(await ws.text(), 'hello')
    ws.send('ping')
    t.equal(await ws.text(), 'echo: ping')
    ws.send(Buffer.alloc(70000, 'x').toString())
    t.equal((await ws.text())?.length, 70006, 'a message larger than a DATA frame and the window crosses')
    ws.close(1000, 'bye')
    const closed = await ws.closed
    t.equal(closed.code, 1000, 'the closing handshake ends the stream')
    t.same(seen, [
      { hook: 'onRequest', method: 'GET', protocol: 'websocket', rawMethod: 'CONNECT' },
      { handler: '2.0', protocol: 'chat.v1' }
    ], 'hooks ran first; the handler knows the transport from request.raw.httpVersion')
    t.equal(session.closed, false, 'the session stays up')
  })
}

for (const transport of mainTransports) {
  test(`W4 (${transport.name}): a refusing hook answers 401 on the stream; the session stays usable`, async (t) => {
    const { connect } = await serve(t, transport, (app) => {
      app.addHook('onRequest', async (request, reply) => {
        if (request.headers.authorization !== 'secret') await reply.code(401).send({ error: 'who are you' })
      })
      app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('welcome') } } } }, async () => 'plain')
    })
    const session = await connect()
    const refused = await openWebSocket(session, '/chat')
    t.equal(refused.status, 401)
    t.same(JSON.parse(refused.body), { error: 'who are you' })
    const accepted = await openWebSocket(session, '/chat', { headers: { authorization: 'secret' } })
    t.equal(accepted.status, 200, 'the same session takes the next one')
    t.equal(await accepted.ws?.text(), 'welcome')
    accepted.ws?.close()
    await accepted.ws?.closed
  })

  test(`E3 (${transport.name}): a stream reset by the client closes its WebSocket with 1006; the session goes on`, async (t) => {
    const closes: number[] = []
    let opened = 0
    const { connect } = await serve(t, transport, (app) => {
      app.get('/chat', {
        upgrade: {
          protocols: {
            websocket: (socket) => {
              opened++
              socket.on('close', (code) => { closes.push(code) })
              socket.on('message', (data) => { socket.send(data.toString()) })
              socket.send('ready')
            }
          }
        }
      }, async () => 'plain')
    })
    const session = await connect()
    const first = await openWebSocket(session, '/chat')
    const second = await openWebSocket(session, '/chat')
    t.equal(await first.ws?.text(), 'ready')
    t.equal(await second.ws?.text(), 'ready')
    first.ws?.stream.close(8) // RST_STREAM CANCEL
    await first.ws?.closed
    await eventually(() => closes.length > 0)
    t.same(closes, [1006], 'the handler saw 1006')
    second.ws?.send('still here')
    t.equal(await second.ws?.text(), 'still here', 'the other stream of the session goes on')
    t.equal(opened, 2)
    second.ws?.close()
    await second.ws?.closed
  })

  test(`E3 (${transport.name}): closing the WebSocket ends only its stream`, async (t) => {
    const { connect } = await serve(t, transport, (app) => {
      app.get('/bye', { upgrade: { protocols: { websocket: (socket) => { socket.close(4000, 'done') } } } }, async () => 'plain')
      app.get('/plain', async () => 'still served')
    })
    const session = await connect()
    const { ws } = await openWebSocket(session, '/bye')
    const closed = await ws?.closed
    t.equal(closed?.code, 4000)
    t.equal(closed?.rstCode, 0, 'the stream ended cleanly, no reset')
    const stream = session.request({ ':path': '/plain' })
    let body = ''
    stream.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
    await once(stream, 'end')
    t.equal(body, 'still served', 'the session serves on')
  })

  test(`E3 (${transport.name}): many WebSockets at once on one HTTP/2 connection, each with its own messages`, async (t) => {
    const { connect } = await serve(t, transport, (app) => {
      app.get('/room/:id', {
        upgrade: {
          protocols: {
            websocket: (socket, request) => {
              const { id } = request.params as { id: string }
              socket.on('message', (data) => { socket.send(`${id}:${data.toString()}`) })
            }
          }
        }
      }, async () => 'plain')
    })
    const session = await connect()
    const count = 50
    const sockets = await Promise.all(Array.from({ length: count }, async (_, i) => (await openWebSocket(session, `/room/${i}`)).ws))
    for (let round = 0; round < 3; round++) sockets.forEach((ws, i) => ws?.send(`m${round}-${i}`))
    const answers = await Promise.all(sockets.map(async (ws) => [await ws?.text(), await ws?.text(), await ws?.text()]))
    t.same(answers, Array.from({ length: count }, (_, i) => [`${i}:m0-${i}`, `${i}:m1-${i}`, `${i}:m2-${i}`]))
    await Promise.all(sockets.map(async (ws) => { ws?.close(); await ws?.closed }))
  })

  test(`S5 (${transport.name}): fastify.close() closes every WebSocket with 1001, then the session gets GOAWAY`, async (t) => {
    // Before Node 24, Fastify's own HTTP/2 server sends GOAWAY on close only with forceCloseConnections.
    const { app, connect } = await serve(t, transport, (app) => {
      app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('hi') } } } }, async () => 'plain')
    }, {}, {}, { forceCloseConnections: true })
    const session = await connect()
    const sockets = await Promise.all([openWebSocket(session, '/chat'), openWebSocket(session, '/chat')])
    for (const { ws } of sockets) t.equal(await ws?.text(), 'hi')
    const events: string[] = []
    session.on('goaway', () => { events.push('goaway') })
    const closes = sockets.map(async ({ ws }) => {
      const closed = await ws?.closed
      events.push(`close ${String(closed?.code)}`)
    })
    t.same(app.upgrade.connections().websocket, 2, 'the registry counts them')
    await app.close()
    await Promise.all(closes)
    t.same(events.slice(0, 2), ['close 1001', 'close 1001'], 'each WebSocket closed with 1001 first')
    t.ok(events.length > 2 && events.slice(2).every((event) => event === 'goaway'), 'then the session got GOAWAY')
  })

  test(`maxPayload and handler errors (${transport.name}): 1009 and 1011 as on HTTP/1.1`, async (t) => {
    const failures: string[] = []
    const { app, connect } = await serve(t, transport, (app) => {
      app.get('/small', { upgrade: { protocols: { websocket: { maxPayload: 10, handler: (socket: WebSocket) => { socket.on('message', () => {}) } } } } }, async () => 'plain')
      app.get('/broken', { upgrade: { protocols: { websocket: async () => { throw new Error('boom') } } } }, async () => 'plain')
    })
    app.log.error = ((obj: { err?: Error }) => { failures.push(String(obj.err?.message)) }) as typeof app.log.error
    const session = await connect()
    const small = await openWebSocket(session, '/small')
    small.ws?.send('more than ten bytes')
    t.equal((await small.ws?.closed)?.code, 1009)
    const broken = await openWebSocket(session, '/broken')
    t.equal((await broken.ws?.closed)?.code, 1011)
    t.equal(session.closed, false, 'the session stays up')
  })

  test(`E3 (${transport.name}): HTTP/2 flow control is the backpressure: a client that stops reading holds the server's messages back`, async (t) => {
    const chunk = 'x'.repeat(65536)
    let measured = (_bytes: number): void => {}
    const held = new Promise<number>((resolve) => { measured = resolve })
    // The 2 MiB burst waits whole: what flow control holds back, without the slow-client guard (S8).
    const { connect } = await serve(t, transport, (app) => {
      app.get('/flood', {
        upgrade: {
          protocols: {
            websocket: (socket) => {
              socket.on('message', (data) => {
                if (data.toString() === 'go') {
                  for (let i = 0; i < 32; i++) socket.send(chunk)
                  socket.send('done')
                } else {
                  // A round trip later, what the stream could send has gone out; the rest waits.
                  measured(socket.bufferedAmount)
                }
              })
            }
          }
        }
      }, async () => 'plain')
    }, { maxBufferedAmount: 0 })
    const session = await connect()
    const { ws } = await openWebSocket(session, '/flood')
    if (ws === undefined) throw new Error('no WebSocket')
    ws.stream.pause()
    ws.send('go')
    ws.send('how much is held?')
    const buffered = await held
    // Without flow control, loopback would have taken the 2 MiB by then; the stream's window lets out 64 KiB.
    t.ok(buffered > 30 * 65536, `a round trip later, the server still holds what the window does not let out (${buffered} bytes)`)
    ws.stream.resume()
    let received = 0
    for (;;) {
      const text = await ws.text()
      if (text === 'done') break
      received += (text as string).length
    }
    t.equal(received, 32 * 65536, 'every message arrives once the client reads')
    ws.close()
    await ws.closed
  })

  test(`maxConnections (${transport.name}): WebSockets over HTTP/2 count; beyond the limit, 503`, async (t) => {
    const { app, connect } = await serve(t, transport, (app) => {
      app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.send('in') } } } }, async () => 'plain')
    }, {}, { maxConnections: transport.name.includes('prior knowledge') ? 3 : 2 })
    const session = await connect()
    const first = await openWebSocket(session, '/chat')
    const second = await openWebSocket(session, '/chat')
    t.equal(await first.ws?.text(), 'in')
    t.equal(await second.ws?.text(), 'in')
    t.equal(app.upgrade.connections().websocket, 2)
    const third = await openWebSocket(session, '/chat')
    t.equal(third.status, 503)
    t.equal(third.headers['retry-after'], '5')
    first.ws?.close()
    await first.ws?.closed
    await eventually(() => app.upgrade.connections().websocket === 1)
    const fourth = await openWebSocket(session, '/chat')
    t.equal(fourth.status, 200, 'a closed one frees its place')
  })
}
