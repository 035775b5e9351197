// Testing without a port: app.injectWS and app.injectUpgrade.
// Run: npm run build && node examples/inject.mjs   (it exits by itself once every check passed)
import assert from 'node:assert/strict'
import { once } from 'node:events'
import Fastify from 'fastify'
import fastifyUpgrade, { raw, websocket } from 'fastify-upgrade'

const app = Fastify()
await app.register(fastifyUpgrade, { protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] })] })

// Upgrades go through the route's hooks like any request.
app.addHook('onRequest', async (request, reply) => {
  if (request.headers.authorization !== 'Bearer secret') await reply.code(401).send({ error: 'who are you?' })
})
app.get('/chat', { upgrade: 'websocket' }, (socket) => socket.on('message', (data) => socket.send(`echo: ${data}`)))
app.get('/echo', { upgrade: 'echo' }, (socket) => socket.pipe(socket))

// Both helpers call app.ready() first, as inject() does.
const auth = { authorization: 'Bearer secret' }

// A WebSocket over a connection held in memory: @fastify/websocket's arguments (path, { headers }, options).
const ws = await app.injectWS('/chat', { headers: auth })
ws.send('hello')
const [message] = await once(ws, 'message')
assert.equal(String(message), 'echo: hello')
ws.close()
await once(ws, 'close')

// A handshake the app does not answer with 101 rejects, with the status.
await assert.rejects(app.injectWS('/chat'), { statusCode: 401, message: 'Unexpected server response: 401' })

// Any protocol: on a 101, the client's end of the connection.
const echo = await app.injectUpgrade('/echo', { upgrade: 'echo/1', headers: auth })
assert.equal(echo.statusCode, 101)
assert.equal(echo.headers.upgrade, 'echo/1')
echo.socket.write('ping')
const [bytes] = await once(echo.socket, 'data')
assert.equal(String(bytes), 'ping')
echo.socket.end()

// Otherwise the status, headers and body: here the route requires the upgrade.
const required = await app.injectUpgrade('/echo', { headers: auth })
assert.equal(required.statusCode, 426)
assert.equal(required.headers.upgrade, 'echo/1')
console.log(`426 Upgrade Required: ${required.body}`)

assert.equal(app.server.listening, false)
await app.close()
console.log('injectWS and injectUpgrade: every check passed, with no port opened')
