// Exports fastify-upgrade's live counts and diagnostics messages as Prometheus metrics.
// Run: npm run build && node examples/metrics.mjs
// It serves /chat (WebSocket echo) and /metrics, does one WebSocket round trip and one refused
// upgrade, prints what /metrics answers, and closes.
import { subscribe } from 'node:diagnostics_channel'
import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'
import { WebSocket } from 'ws'

// Counters fed by the channels: one process-wide subscription serves every app.
const upgrades = new Map() // adapter name -> count
const refusals = new Map() // status code -> count
const closed = { count: 0, seconds: 0, bytesRead: 0, bytesWritten: 0 }
let declines = 0
const add = (map, key) => map.set(key, (map.get(key) ?? 0) + 1)

subscribe('fastify-upgrade.upgrade', ({ adapter }) => add(upgrades, adapter))
subscribe('fastify-upgrade.decline', () => { declines++ })
subscribe('fastify-upgrade.refuse', ({ statusCode }) => add(refusals, statusCode))
subscribe('fastify-upgrade.close', ({ responseTime, bytesRead, bytesWritten }) => {
  closed.count++
  closed.seconds += responseTime / 1000
  closed.bytesRead += bytesRead
  closed.bytesWritten += bytesWritten
})

function metrics (app, adapter) {
  const lines = []
  const metric = (name, type, help, samples) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`)
  }
  metric('fastify_upgrade_connections', 'gauge', 'Upgraded connections open now.',
    Object.entries(app.upgrade.connections()).map(([adapter, n]) => [`{adapter="${adapter}"}`, n]))
  metric('fastify_upgrade_upgrades_total', 'counter', 'Requests switched to another protocol.',
    [...upgrades].map(([adapter, n]) => [`{adapter="${adapter}"}`, n]))
  metric('fastify_upgrade_declines_total', 'counter', 'Upgrade requests served as plain HTTP.', [['', declines]])
  metric('fastify_upgrade_refusals_total', 'counter', 'Upgrade requests answered with an HTTP error.',
    [...refusals].map(([status, n]) => [`{status="${status}"}`, n]))
  metric('fastify_upgrade_connection_seconds', 'summary', 'How long upgraded connections lasted.',
    [['_sum', closed.seconds.toFixed(6)], ['_count', closed.count]])
  metric('fastify_upgrade_connection_bytes_total', 'counter', 'Bytes upgraded connections carried, once closed.',
    [['{direction="in"}', closed.bytesRead], ['{direction="out"}', closed.bytesWritten]])
  metric('fastify_upgrade_websocket_slow_clients_total', 'counter', 'Messages left out and WebSockets closed for clients that did not read.',
    [['{action="skipped"}', adapter.slowClients.skipped], ['{action="closed"}', adapter.slowClients.closed]])
  return lines.join('\n') + '\n'
}

const app = Fastify()
const sockets = websocket()
await app.register(fastifyUpgrade, { protocols: [sockets] })
app.get('/chat', {
  upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data) => socket.send(data)) } }, required: true }
}, async () => 'never: the route requires WebSocket')
app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metrics(app, sockets)))
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
const { port } = app.server.address()

// One WebSocket round trip, closed by the client.
const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`)
await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
ws.send('ping')
await new Promise((resolve) => ws.once('message', resolve))
// The server reports the close once its side of the connection is gone.
const serverClosed = new Promise((resolve) => subscribe('fastify-upgrade.close', resolve))
ws.close(1000, 'done')
await serverClosed

// A plain GET to a route that requires the upgrade: 426.
await fetch(`http://127.0.0.1:${port}/chat`)

process.stdout.write(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
await app.close()
