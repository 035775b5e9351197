// Every protocol on one port, through the same routes, and a client for each.
// `node examples/one-port.mjs` (PORT to choose the port; 0 for any).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http2 from 'node:http2'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastifyUpgrade, { websocket, h2c, tls, raw } from 'fastify-upgrade'
import WebSocket from 'ws'

// A self-signed certificate for the TLS upgrade, made with openssl (use your own key and cert).
const dir = mkdtempSync(join(tmpdir(), 'one-port-'))
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
const key = readFileSync(join(dir, 'key.pem'))
const cert = readFileSync(join(dir, 'cert.pem'))
rmSync(dir, { recursive: true })

const app = Fastify()
await app.register(fastifyUpgrade, {
  protocols: [websocket(), h2c(), tls({ key, cert }), raw({ name: 'echo', tokens: ['echo/1'] })]
})

// hand-off: after the 101 the handler owns the connection (ws's WebSocket here)
app.get('/chat', { upgrade: { protocols: { websocket: (socket, request) => socket.send('hi') } } },
  async () => 'connect with a WebSocket client')
// continuation: after the 101 the same request is answered over HTTP/2 by the route handler
app.get('/news.html', { upgrade: { protocols: { h2c: true } } }, async () => '<h1>news</h1>')
// 426 in cleartext; served after an in-place TLS upgrade (RFC 2817)
app.get('/secret', { upgrade: { protocols: { tls: true }, required: true } }, async () => 'secret')
// a custom protocol: the raw socket after the 101
app.get('/echo', { upgrade: { protocols: { echo: (socket, request) => socket.pipe(socket) } } },
  async () => 'connect with Upgrade: echo/1')

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
const { port } = app.server.address()

// WebSocket
const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`)
const [message] = await new Promise((resolve) => ws.once('message', (...args) => resolve(args)))
console.log('websocket:', String(message))                               // websocket: hi
ws.close()

// HTTP/2 on the same port (Node's client speaks prior knowledge; curl --http2 upgrades)
const session = http2.connect(address)
const stream = session.request({ ':path': '/news.html' })
let news = ''
for await (const chunk of stream) news += chunk
console.log('h2c:', news)                                               // h2c: <h1>news</h1>
session.close()

// TLS is required: in cleartext the route answers 426 (examples/tls-in-place.mjs upgrades)
const secret = await fetch(`${address}/secret`)
console.log('tls:', secret.status, secret.headers.get('upgrade'))        // tls: 426 TLS/1.2, HTTP/1.1

// echo/1: the bytes after the request come back after the 101
const echo = net.connect(port, '127.0.0.1', () => {
  echo.end('GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: upgrade\r\nUpgrade: echo/1\r\n\r\nmarco')
})
let echoed = ''
for await (const chunk of echo) echoed += chunk
console.log('echo:', echoed.split('\r\n\r\n')[1])                        // echo: marco

await app.close()
