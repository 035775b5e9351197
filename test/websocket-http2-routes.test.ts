import Fastify from 'fastify'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { ProtocolAdapter } from '../types/index'
import { connectSession, openWebSocket } from '../bench/h2-websocket-client'
import { serve, transports } from './websocket-http2-helpers'

const { websocket, h2c } = fastifyUpgrade

// The test's own adapter, typed as a user types theirs.
declare module '../types/index' {
  interface UpgradeProtocols { tunnel: import('node:http2').ServerHttp2Stream }
}

test('a route Fastify prefers by its constraints, though it does not take the :protocol, answers 501', async (t) => {
  const { connect } = await serve(t, transports[3], (app) => {
    app.get('/c', { constraints: { host: 'ws.example' }, upgrade: { protocols: { websocket: () => {} } } }, async () => 'ws host')
    app.get('/c', { upgrade: { protocols: { h2c: true } } }, async () => 'plain')
  })
  const session = await connect()
  t.equal((await openWebSocket(session, '/c')).status, 501)
})

test('adapter options: extended CONNECT needs a token and a connect function, once per :protocol', async (t) => {
  const base = { name: 'a', tokens: ['a'], switch () {} }
  for (const [adapters, message] of [
    [[{ ...base, extendedConnect: { protocol: 'a' } }], /extendedConnect needs a protocol token and a connect\(ctx\) function/],
    [[{ ...base, extendedConnect: { protocol: 'a b', connect () {} } }], /needs a protocol token/],
    [[{ ...base, extendedConnect: { protocol: 'a', connect () {} } }, { ...base, name: 'b', tokens: ['b'], extendedConnect: { protocol: 'A', connect () {} } }], /taken by two adapters/],
    [[{ ...base, connectProtocol: 'a' }], /has `connectProtocol`, which is now extendedConnect: \{ protocol, connect \}/]
  ] as unknown as Array<[ProtocolAdapter[], RegExp]>) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyUpgrade, { protocols: adapters }) }, message)
  }
  t.throws(() => websocket({ http2: 'yes' as unknown as boolean }), /websocket\(\) http2 must be a boolean/)
})

test('E1: the h2c server announces it only once a websocket route exists; h2c alone does not', async (t) => {
  const app = Fastify()
  await app.register(fastifyUpgrade, { protocols: [h2c(), websocket()] })
  app.route({ method: ['GET', 'HEAD'], url: '/', handler: async () => 'plain' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const session = await connectSession(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
  t.teardown(() => session.destroy())
  t.equal(session.remoteSettings.enableConnectProtocol, false)
})

/** Opens an extended CONNECT stream and answers its status, or the RST_STREAM code it was reset with. */
async function tryOpen (session: Awaited<ReturnType<typeof connectSession>>, path: string): Promise<{ status?: number, rstCode?: number }> {
  const stream = session.request({
    ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': path, ':authority': 'localhost', 'sec-websocket-version': '13'
  }, { endStream: false })
  stream.on('error', () => {})
  return await new Promise((resolve) => {
    stream.once('response', (headers) => { resolve({ status: headers[':status'] as number }) })
    stream.once('close', () => { resolve({ rstCode: stream.rstCode }) })
  })
}

for (const [max, transport] of [[2, transports[3]], [undefined, transports[2]]] as const) {
  test(`E4 (${transport.name}): at most ${max ?? 'a default of 100'} WebSockets on one HTTP/2 connection; beyond it REFUSED_STREAM, and the connection stays up`, async (t) => {
    const { app, connect } = await serve(t, transport, (app) => {
      app.get('/chat', { upgrade: { protocols: { websocket: () => {} } } }, async () => 'plain')
    }, {}, max === undefined ? {} : { maxStreamsPerConnection: max })
    const session = await connect()
    const limit = max ?? 100
    const opened = await Promise.all(Array.from({ length: limit }, async () => await openWebSocket(session, '/chat')))
    t.same(new Set(opened.map((answer) => answer.status)), new Set([200]), `${limit} open`)
    t.same(await tryOpen(session, '/chat'), { rstCode: 7 }, 'the next one is refused (REFUSED_STREAM)')
    opened[0].ws?.close()
    await opened[0].ws?.closed
    t.equal((await openWebSocket(session, '/chat')).status, 200, 'a closed one frees its place on the same connection')
    t.equal(app.upgrade.connections().websocket, limit)
  })
}

test('GET routes told apart by constraints and a parameter name start beside websocket(), and each serves its host', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyUpgrade, { protocols: [websocket()] })
  app.get('/users/:id', { constraints: { host: 'a.example' } }, async (request) => `a ${(request.params as { id: string }).id}`)
  app.get('/users/:name', { constraints: { host: 'b.example' } }, async (request) => `b ${(request.params as { name: string }).name}`)
  await app.ready()
  t.equal((await app.inject({ url: '/users/1', headers: { host: 'a.example' } })).body, 'a 1')
  t.equal((await app.inject({ url: '/users/2', headers: { host: 'b.example' } })).body, 'b 2')
})

test('S5: an adapter that says nothing of closing its HTTP/2 streams still has them closed by fastify.close(), with NO_ERROR', async (t) => {
  const tunnel: ProtocolAdapter = {
    name: 'tunnel',
    tokens: ['tunnel'],
    switch () {},
    extendedConnect: { protocol: 'websocket', connect (ctx) { ctx.stream.resume() } }
  }
  const app = Fastify({ http2: true })
  await app.register(fastifyUpgrade, { protocols: [tunnel] })
  app.get('/t', { upgrade: { protocols: { tunnel: () => {} } } }, async () => 'plain')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const session = await connectSession(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
  t.teardown(() => session.destroy())
  const opened = await openWebSocket(session, '/t')
  t.equal(opened.status, 200)
  const closing = app.close()
  t.equal((await opened.ws?.closed)?.rstCode, 0, 'the stream closed, not reset with an error')
  // Before Node 24, Fastify's HTTP/2 server waits for its sessions to go.
  session.destroy()
  await closing
})
