'use strict'

// The soak's server, in its own process (scripts/soak.js forks it with --expose-gc): WebSocket and
// h2c on one route. It tells its port over IPC and answers 'measure' (after a full GC) and 'close'.
const Fastify = require('fastify')
const fastifyUpgrade = require('../../dist/index.js')

async function main () {
  const app = Fastify()
  await app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.websocket(), fastifyUpgrade.h2c()] })
  app.get('/up', { upgrade: { protocols: { websocket: () => {}, h2c: true } } }, async () => ({ hello: 'world' }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.on('message', async (message) => {
    if (message === 'measure') {
      global.gc()
      global.gc()
      const { rss, heapUsed } = process.memoryUsage()
      const open = await new Promise((resolve) => app.server.getConnections((_, n) => resolve(n)))
      process.send({ rss, heapUsed, open, upgraded: app.upgrade.connections() })
    } else if (message === 'close') {
      const begin = performance.now()
      await app.close()
      process.send({ closeMs: performance.now() - begin })
    }
  })
  process.send({ port: app.server.address().port })
}

main()
