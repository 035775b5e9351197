import { once } from 'node:events'
import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'
import { WebSocket } from 'ws'
const app = Fastify({ logger: true })
await app.register(fastifyUpgrade, { protocols: [websocket()] })
app.get('/chat', { upgrade: { protocols: { websocket: (socket) => socket.on('message', (m) => socket.send(m)) } } }, async () => 'plain')
const address = await app.listen({ port: 0, host: '127.0.0.1' })
const ws = new WebSocket(address.replace('http', 'ws') + '/chat')
await once(ws, 'open'); ws.send('hello'); await once(ws, 'message')
ws.close(1000, 'bye'); await once(ws, 'close')
await new Promise((resolve) => setTimeout(resolve, 50))
await app.close()
