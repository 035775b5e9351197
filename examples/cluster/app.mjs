// One of several identical chat processes: each text message a client sends to /chat reaches every
// client of every process started this way, through Redis pub/sub (see docs/scaling.md).
//   PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node examples/cluster/app.mjs &
//   PORT=3002 REDIS_URL=redis://127.0.0.1:6379 node examples/cluster/app.mjs &
// and a proxy in front (examples/deploy/). GET /metrics answers this process's counts.
// SIGTERM drains it: fastify.close() closes its WebSockets with 1001, then its Redis connections.
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'
import { createClient } from 'redis'

const CHANNEL = process.env.CHANNEL ?? 'chat'
// This process's messages carry its id and a sequence number, so receivers can count the ones
// they never got (a gap) instead of losing them silently.
const ORIGIN = randomUUID()
const metrics = {
  published: 0, // messages of this process's clients that Redis took
  lost: 0, // messages of this process's clients that Redis did not take (it was away)
  received: 0, // messages that came from Redis, this process's own included
  missed: 0, // messages that Redis took or should have taken, that never came here (gaps in a sequence)
  delivered: 0 // WebSocket messages sent to clients
}

const app = Fastify({ logger: true })
// Its defaults close a client that does not keep up with 1013 once 1 MiB waits for it: a reader
// slower than the room would otherwise keep its backlog in this process's memory.
const ws = websocket()
await app.register(fastifyUpgrade, { protocols: [ws] })

/**
 * A Redis connection that logs when it goes away (once per outage, not per retry) and comes back.
 * node-redis retries by itself: 50 ms doubling up to 2 s, plus up to 200 ms of jitter so that
 * processes do not retry in step.
 */
function redis (role, options) {
  const client = createClient({ url: process.env.REDIS_URL, ...options })
  let up = true
  client.on('error', (error) => {
    if (up) app.log.warn({ role, err: error }, 'redis connection lost, reconnecting')
    up = false
  })
  // For the subscriber, 'ready' comes after node-redis has subscribed again.
  client.on('ready', () => {
    up = true
    app.log.info({ role }, 'redis ready')
  })
  return client
}

// Without the offline queue a publish fails at once while Redis is away, and is counted lost:
// queued, it would wait in memory without bound and reach clients long after the conversation.
const publisher = redis('publisher', { disableOfflineQueue: true })
// A connection in subscriber mode takes no other command: a second one.
const subscriber = redis('subscriber')

let sequence = 0
function publish (text) {
  const message = JSON.stringify({ origin: ORIGIN, seq: ++sequence, text })
  publisher.publish(CHANNEL, message).then(() => { metrics.published++ }, (error) => {
    metrics.lost++
    app.log.warn({ err: error, lost: metrics.lost }, 'message lost: Redis did not take it')
  })
}

// Last sequence number seen per process; one small entry per process start.
const last = new Map()
function receive (message) {
  let parsed
  try { parsed = JSON.parse(message) } catch { return } // not one of ours: someone else on the channel
  const { origin, seq, text } = parsed
  const before = last.get(origin)
  if (before !== undefined && seq > before + 1) {
    metrics.missed += seq - before - 1
    app.log.warn({ origin, missed: seq - before - 1 }, 'messages missed')
  }
  last.set(origin, seq)
  metrics.received++
  for (const client of ws.clients) {
    if (client.readyState !== client.OPEN) continue
    client.send(text)
    metrics.delivered++
  }
}

app.get('/chat', {
  upgrade: {
    protocols: {
      websocket: (socket) => {
        socket.send(`welcome, served by process ${process.pid}`)
        socket.on('message', (data, binary) => {
          if (binary) socket.close(1003, 'text messages only')
          else publish(data.toString())
        })
      }
    }
  }
}, async () => 'connect with a WebSocket client')

// slow: clients closed because they did not keep up (the plugin's guard).
app.get('/metrics', async () => ({ ...metrics, slow: ws.slowClients.closed, clients: ws.clients.size, redis: { publisher: publisher.isReady, subscriber: subscriber.isReady } }))

// After the plugin has closed the WebSockets with 1001: nothing is published from here on.
app.addHook('onClose', async () => { await Promise.all([publisher.close(), subscriber.close()]) })

await Promise.all([publisher.connect(), subscriber.connect()])
await subscriber.subscribe(CHANNEL, receive)

for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => app.close())

await app.listen({ port: Number(process.env.PORT ?? 3001), host: process.env.HOST ?? '127.0.0.1' })
