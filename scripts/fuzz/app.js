'use strict'

// The server under fuzz: every adapter, an auth hook, a route that requires an upgrade, plain routes.
const Fastify = require('fastify')
const { MAX_BODY } = require('./oracle')

const HANDSHAKE_TIMEOUT = 500

/** Builds and starts the app with `fastifyUpgrade` (lib in the test, the build in the script); answers it and its port. */
async function start (fastifyUpgrade, { key, cert }) {
  const { websocket, h2c, tls, raw } = fastifyUpgrade
  // Node bounds a request head, before anyone can tell it asks for an upgrade: its headersTimeout,
  // checked every connectionsCheckingInterval, is set to the plugin's bound here.
  const app = Fastify({ http: { headersTimeout: HANDSHAKE_TIMEOUT, connectionsCheckingInterval: 100 } })
  // An HTTP/2 session whose client broke the protocol on Node 20 is closed within 3 × sessionTimeout
  // (README, "Idle sessions and memory"): half the handshake bound keeps that under the fuzzer's bound.
  await app.register(fastifyUpgrade, {
    protocols: [websocket(), h2c({ sessionTimeout: HANDSHAKE_TIMEOUT / 2 }), tls({ key, cert }), raw({ name: 'echo', tokens: ['echo/1'] })],
    handshakeTimeout: HANDSHAKE_TIMEOUT,
    maxBodySize: MAX_BODY,
    closeTimeout: 1000
  })
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/auth/') && request.headers.authorization !== 'Bearer ok') return reply.code(401).send('no')
  })
  const echoSocket = (socket) => { socket.on('message', (data) => socket.send(data)) }
  const echoRaw = (socket) => { socket.on('error', () => {}).pipe(socket) }
  const all = { websocket: echoSocket, h2c: true, tls: true, echo: echoRaw }
  const routes = {
    '/ws': { protocols: { websocket: echoSocket } },
    '/ws-sub': { protocols: { websocket: { handler: echoSocket, protocols: ['chat.v1', 'chat.v2'] } } },
    '/h2': { protocols: { h2c: true } },
    '/tls': { protocols: { tls: true } },
    '/echo': { protocols: { echo: echoRaw } },
    '/all': { protocols: all },
    '/required': { protocols: { websocket: echoSocket, h2c: true }, required: true },
    '/auth/all': { protocols: all },
    '/plain': undefined
  }
  for (const [url, upgrade] of Object.entries(routes)) {
    app.route({ method: ['GET', 'POST'], url, upgrade, handler: async () => `ok ${url}\n` })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: app.server.address().port }
}

module.exports = { start, HANDSHAKE_TIMEOUT }
