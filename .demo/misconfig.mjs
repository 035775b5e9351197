import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'
const route = { upgrade: { protocols: { websocket: (socket) => socket.send('hi') } } }
const plain = async () => 'plain'
async function attempt (name, build) {
  const app = Fastify()
  await build(app)
  try { await app.ready(); console.log(name, '-> ready (!)') } catch (error) { console.log(`${name} -> ${error.code}: ${error.message}`) }
  await app.close().catch(() => {})
}
await attempt('route before plugin', async (app) => {
  app.get('/chat', route, plain)
  await app.register(fastifyUpgrade, { protocols: [websocket()] })
})
await attempt('register without await', async (app) => {
  app.register(fastifyUpgrade, { protocols: [websocket()] })
  app.get('/chat', route, plain)
})
await attempt('sibling scope', async (app) => {
  app.register(async (a) => { await a.register(fastifyUpgrade, { protocols: [websocket()] }) })
  app.register(async (b) => { b.get('/chat', route, plain) })
})
