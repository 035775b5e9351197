// The broadcast of app.mjs in 15 lines, without its metrics and sequence numbers (docs/scaling.md).
//   PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node examples/cluster/short.mjs
import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'
import { createClient } from 'redis'

const ws = websocket()
const app = Fastify({ logger: true })
await app.register(fastifyUpgrade, { protocols: [ws] })
// No offline queue: while Redis is away a publish fails at once (logged below) instead of waiting.
const publisher = await createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true }).on('error', (e) => app.log.warn(e)).connect()
const subscriber = await createClient({ url: process.env.REDIS_URL }).on('error', (e) => app.log.warn(e)).connect()
await subscriber.subscribe('chat', (text) => { for (const client of ws.clients) client.send(text) })
const publish = (text) => publisher.publish('chat', text).catch((e) => app.log.error(e, `message lost: ${text}`))
app.get('/chat', { upgrade: { protocols: { websocket: (socket) => socket.on('message', (data) => publish(`${data}`)) } } }, async () => 'a WebSocket route')
app.addHook('onClose', () => Promise.all([publisher.close(), subscriber.close()]))
await app.listen({ port: Number(process.env.PORT ?? 3001) })
