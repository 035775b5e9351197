// One chat app, served by fastify-upgrade or, for comparison, by @fastify/websocket:
//   node examples/from-fastify-websocket.mjs                     (fastify-upgrade)
//   node examples/from-fastify-websocket.mjs @fastify/websocket
// Both print the same lines. What differs is only the registration and the route form.
import { once } from 'node:events'
import fastifyWebsocket from '@fastify/websocket'
import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'
import { WebSocket } from 'ws'

const before = process.argv[2] === '@fastify/websocket'
const app = Fastify()
app.decorate('motd', 'welcome to the chat')
// Hooks run before the switch with both plugins: without the token, a handshake gets 401 too.
app.addHook('onRequest', async (request, reply) => {
  if (request.query.token !== 'secret') await reply.code(401).send('who are you?')
})

// The handler is the same: `this` is the route's Fastify instance, `socket` ws's WebSocket.
let clients
function chat (socket, request) {
  socket.send(`${this.motd}, ${request.query.name}`)
  socket.on('message', (data) => {
    for (const client of clients()) client.send(`${request.query.name}: ${data}`)
  })
}
const page = async () => 'connect with a WebSocket client'

if (before) {
  await app.register(fastifyWebsocket, { options: { maxPayload: 65536 } })
  clients = () => app.websocketServer.clients
  app.route({ method: 'GET', url: '/chat', handler: page, wsHandler: chat })
} else {
  await app.register(fastifyUpgrade, { protocols: [websocket({ maxPayload: 65536 })] })
  clients = () => app.upgrade.adapter('websocket').clients
  app.get('/chat', { upgrade: { protocols: { websocket: chat } } }, page)
}

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
const url = `${address.replace('http', 'ws')}/chat?token=secret`

async function join (name) {
  const socket = new WebSocket(`${url}&name=${name}`)
  const [greeting] = await once(socket, 'message')
  console.log(`${name} got: ${greeting}`)
  return socket
}
const alice = await join('alice')
const bob = await join('bob')
const heard = Promise.all([once(alice, 'message'), once(bob, 'message')])
bob.send('hi all')
for (const [message] of await heard) console.log(`broadcast: ${message}`)

console.log(`plain HTTP: ${await (await fetch(`${address}/chat?token=secret`)).text()}`)
console.log(`without the token: ${(await fetch(`${address}/chat`)).status}`)

for (const client of [alice, bob]) client.terminate()
await app.close()
