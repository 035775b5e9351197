import { createHash } from 'node:crypto'
import { once } from 'node:events'
import Fastify from 'fastify'
import { test, type Test } from 'tap'
import WebSocket from 'ws'
// Only what a third party can import: the package by name, its types and its kit.
import fastifyUpgrade, { type BehindProxy, type ProtocolAdapter, type UpgradeHandler } from 'fastify-upgrade'
import { checkOptions, FST_ERR_UPGRADE_BAD_REQUEST, is, proxyPolicy, WebSocketOpener } from 'fastify-upgrade/kit'
import type KitContract = require('../types/kit')
import * as kit from '../lib/kit/index'
import { connectSession, openWebSocket } from '../bench/h2-websocket-client'

// The kit as built is the kit as declared: every export, with a compatible type.
const declared: typeof KitContract = kit

interface JsonOptions { maxPayload?: number, behindProxy?: BehindProxy }
type JsonHandler = UpgradeHandler<WebSocket>

/**
 * A third-party WebSocket adapter that speaks only the `json` subprotocol, over HTTP/1.1 and
 * HTTP/2 streams (RFC 8441), refuses tunnels through proxies, and checks its options: what the
 * built-in websocket adapter does, from the kit alone.
 */
function json (options: JsonOptions = {}): ProtocolAdapter<JsonHandler> {
  checkOptions(options, 'json()', { maxPayload: is.integer, behindProxy: is.any })
  const { maxPayload = 65536 } = options
  const declines = proxyPolicy('json', options.behindProxy)
  const opener = new WebSocketOpener({ maxPayload })
  const open = (connection: import('node:stream').Duplex, handler: JsonHandler, request: Parameters<JsonHandler>[1]): void => {
    const socket = opener.open(connection, Buffer.alloc(0), 'json', undefined, maxPayload)
    handler.call(request.server, socket, request)
  }
  return {
    name: 'json',
    tokens: ['websocket'],
    check (request) {
      if (declines(request, request.server)) return false
      if (!String(request.headers['sec-websocket-protocol']).split(/\s*,\s*/).includes('json')) {
        throw new FST_ERR_UPGRADE_BAD_REQUEST('This endpoint speaks the json subprotocol only')
      }
      const key = request.headers['sec-websocket-key']
      const fields: Record<string, string> = { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'json' }
      // Over HTTP/2 there is no key to prove (RFC 8441 §5).
      if (typeof key === 'string') fields['Sec-WebSocket-Accept'] = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
      return fields
    },
    switch (ctx) { open(ctx.socket, ctx.value, ctx.request) },
    extendedConnect: { protocol: 'websocket', connect (ctx) { open(ctx.stream, ctx.value, ctx.request) } }
  }
}

declare module 'fastify-upgrade' {
  interface UpgradeProtocols { json: WebSocket }
}

async function app (t: Test, http2 = false): Promise<string> {
  const fastify = Fastify({ http2 } as { http2: false })
  await fastify.register(fastifyUpgrade, { protocols: [json()] })
  fastify.get('/doubler', {
    upgrade: { protocols: { json: (socket) => { socket.on('message', (data) => { socket.send(JSON.stringify(JSON.parse(String(data)) * 2)) }) } } }
  }, async () => 'plain')
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => fastify.close())
  return `127.0.0.1:${(fastify.server.address() as { port: number }).port}`
}

test('a third-party adapter built from the kit alone speaks WebSocket over HTTP/1.1', async (t) => {
  const client = new WebSocket(`ws://${await app(t)}/doubler`, ['json'])
  t.teardown(() => client.terminate())
  await once(client, 'open')
  t.equal(client.protocol, 'json')
  client.send('21')
  t.equal(String((await once(client, 'message'))[0]), '42')
})

test('a third-party adapter built from the kit alone refuses with the kit\'s errors and declines behind a proxy', async (t) => {
  const host = await app(t)
  const refused = new WebSocket(`ws://${host}/doubler`, ['xml'])
  refused.on('error', () => {})
  const [, response] = await once(refused, 'unexpected-response')
  t.equal(response.statusCode, 400)
  refused.terminate()
  const proxied = new WebSocket(`ws://${host}/doubler`, ['json'], { headers: { via: '1.1 proxy' } })
  proxied.on('error', () => {})
  const [, plain] = await once(proxied, 'unexpected-response')
  t.equal(plain.statusCode, 200, 'declined: served as plain HTTP')
  proxied.terminate()
})

test('a third-party adapter built from the kit alone takes WebSockets over HTTP/2 streams (RFC 8441)', async (t) => {
  const session = await connectSession(`http://${await app(t, true)}`)
  t.teardown(() => session.destroy())
  const opened = await openWebSocket(session, '/doubler', { protocols: ['json'] })
  t.equal(opened.status, 200)
  t.equal(opened.headers['sec-websocket-protocol'], 'json')
  opened.ws?.send('4')
  t.equal(await opened.ws?.text(), '8')
  opened.ws?.close()
})

test('the kit as built exports what types/kit.d.ts declares', async (t) => {
  t.same(Object.keys(declared).sort(), Object.keys(kit).sort())
  t.same(Object.values(kit).filter((value) => value === undefined), [], 'each one defined')
})

test('the kit checks an adapter\'s options as the built-ins\' are checked', async (t) => {
  t.throws(() => json('fast' as never), { message: 'fastify-upgrade: json() takes an options object, got fast' })
  t.throws(() => json({ maxPayLoad: 1 } as never), { code: 'FST_ERR_UPGRADE_OPTIONS', message: 'fastify-upgrade: json() has no option "maxPayLoad": did you mean "maxPayload"?' })
  t.throws(() => json({ maxPayload: -1 }), { message: 'fastify-upgrade: json() maxPayload must be an integer ≥ 0, got -1' })
  t.throws(() => json({ behindProxy: 'sometimes' as never }), { message: /json\(\) behindProxy must be "refuse" or "allow"/ })
})
