// One of several identical processes behind nginx or HAProxy (nginx.conf, haproxy.cfg here).
// Start one per port; the proxy balances over them:
//   PORT=3001 node examples/deploy/app.mjs & PORT=3002 node examples/deploy/app.mjs &
// SIGTERM drains it: fastify.close() closes its WebSockets with 1001 (clients reconnect, and the
// proxy sends them to the other processes) and the process exits once its connections are gone.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import fastifyUpgrade, { h2c, tls, websocket } from 'fastify-upgrade'

const TOKEN = process.env.TOKEN ?? 'change-me'

// h2c, and TLS in place when TLS_KEY and TLS_CERT name PEM files, are for clients that reach this
// process directly (other services on the private network). The proxy configs never forward
// those upgrades, and the plugin declines them anyway when the request shows a proxy.
const protocols = [websocket(), h2c()]
const direct = { h2c: true }
if (process.env.TLS_KEY && process.env.TLS_CERT) {
  protocols.push(tls({ key: readFileSync(process.env.TLS_KEY), cert: readFileSync(process.env.TLS_CERT) }))
  direct.tls = true
}

const app = Fastify({ logger: true })
await app.register(fastifyUpgrade, { protocols })

// Auth for the upgrade runs as for any request: a hook that replies means no 101.
async function authenticate (request, reply) {
  if (request.headers.authorization !== `Bearer ${TOKEN}`) {
    return reply.code(401).send({ error: 'a bearer token is needed' })
  }
}

// Any process may get any connection: a WebSocket lives on the process that accepted it, so no
// sticky sessions are needed. To reach clients on every process, publish through a pub/sub.
app.get('/chat', {
  onRequest: authenticate,
  upgrade: {
    required: true, // a plain GET gets 426 Upgrade: websocket
    protocols: {
      websocket: (socket) => {
        socket.send(`welcome, served by process ${process.pid}`)
        socket.on('message', (data) => socket.send(data.toString()))
      }
    }
  }
}, async () => 'connect with a WebSocket client')

app.get('/plain', { upgrade: { protocols: direct } },
  async (request) => `plain over HTTP/${request.raw.httpVersion}`)

// The proxy denies /admin; only clients that reach this process directly get here.
app.get('/admin', async () => ({ secret: 'admin-area' }))

for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => app.close())

await app.listen({ port: Number(process.env.PORT ?? 3001), host: process.env.HOST ?? '127.0.0.1' })
