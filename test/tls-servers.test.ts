import type { FastifyServerOptions } from 'fastify'
import { test } from 'tap'
import { connect } from 'node:tls'
import WebSocket from 'ws'
import fastifyUpgrade from '../lib/index'
import { build, listen } from './helpers'
import { certificate } from './tls-helpers'

// The plugin on Fastify's own TLS servers: `https`, and `http2` with `allowHTTP1`, whose HTTP/1.1
// connections Node serves with its HTTP/1 machinery on a server that is not an HTTP/1 server.
// Fastify types these options with its https and http2 overloads, which `build` does not take.
const servers: Array<[string, () => FastifyServerOptions]> = [
  ['https', () => ({ https: certificate() }) as FastifyServerOptions],
  ['http2 with allowHTTP1', () => ({ http2: true, https: { allowHTTP1: true, ...certificate() } }) as FastifyServerOptions]
]

for (const [name, options] of servers) {
  test(`U10: on Fastify's ${name} server, a declined upgrade is served and its connection serves the next request`, async (t) => {
    const app = await build(t, {}, options())
    app.get('/echo', { upgrade: { protocols: { echo: (socket) => { socket.pipe(socket) } } } }, async () => 'plain\n')
    const port = await listen(app)
    const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
    t.teardown(() => socket.destroy())
    let text = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => { text += chunk })
    const closed = new Promise((resolve) => socket.once('close', resolve))
    socket.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: other/1\r\n\r\n')
    await new Promise((resolve) => socket.once('data', resolve))
    // The next request comes once the connection is back with Node's parser.
    socket.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await closed
    t.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nplain\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nplain\n$/)
  })

  test(`W3: on Fastify's ${name} server, a WebSocket over TLS switches and echoes`, async (t) => {
    const app = await build(t, { protocols: [fastifyUpgrade.websocket()] }, options())
    app.get('/chat', {
      upgrade: { protocols: { websocket: (socket, request) => { socket.on('message', (data) => socket.send(`${String(data)} over ${request.protocol}`)) } } }
    }, async () => 'plain\n')
    const port = await listen(app)
    const client = new WebSocket(`wss://127.0.0.1:${port}/chat`, { rejectUnauthorized: false })
    t.teardown(() => client.terminate())
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject))
    client.send('hello')
    t.equal(await new Promise((resolve) => client.once('message', (data) => { resolve(String(data)) })), 'hello over https')
  })
}
