// WebSocket over HTTP/2 (RFC 8441): the same route takes an extended CONNECT on an HTTP/2
// connection, and a client written on node:http2 talks to it. Browsers do this on their own over
// HTTPS (`http2: true` with `https`); cleartext `http2: true` keeps this example free of certificates.
// `node examples/websocket-http2.mjs` (PORT to choose the port; 0 for any).
import http2 from 'node:http2'
import Fastify from 'fastify'
import fastifyUpgrade, { websocket } from 'fastify-upgrade'

const app = Fastify({ http2: true })
await app.register(fastifyUpgrade, { protocols: [websocket()] })

app.get('/chat', {
  upgrade: {
    protocols: {
      websocket: (socket, request) => {
        // '2.0' over an HTTP/2 stream, '1.1' after an HTTP/1.1 Upgrade
        socket.send(`hello over HTTP/${request.raw.httpVersion}`)
        socket.on('message', (data) => socket.send(`echo: ${data}`))
      }
    }
  }
}, async () => 'connect with a WebSocket client')

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })

// The client: one HTTP/2 session; the server's SETTINGS say it takes extended CONNECT.
const session = http2.connect(address)
await new Promise((resolve) => session.once('remoteSettings', resolve))
console.log('enableConnectProtocol:', session.remoteSettings.enableConnectProtocol)  // enableConnectProtocol: true
const stream = session.request({
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'http',
  ':path': '/chat',
  ':authority': new URL(address).host,
  'sec-websocket-version': '13'
}, { endStream: false })
const [headers] = await new Promise((resolve) => stream.once('response', (...args) => resolve(args)))
console.log('status:', headers[':status'])                                            // status: 200

// RFC 6455 frames on the stream: text frames, masked by the client, unmasked from the server.
const text = (message) => {
  const payload = Buffer.from(message)
  const mask = Buffer.from([1, 2, 3, 4])
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((byte, i) => byte ^ mask[i % 4])])
}
const received = []
let bytes = Buffer.alloc(0)
stream.on('data', (chunk) => {
  bytes = Buffer.concat([bytes, chunk])
  // short frames only here: a 2-byte header, then the payload
  while (bytes.length >= 2 && bytes.length >= 2 + bytes[1]) {
    received.push(bytes.subarray(2, 2 + bytes[1]).toString())
    bytes = bytes.subarray(2 + bytes[1])
  }
})
stream.write(text('hi'))
while (received.length < 2) await new Promise((resolve) => stream.once('data', resolve))
console.log(received.join(' | '))                                // hello over HTTP/2.0 | echo: hi

stream.close()   // ends this stream only; the session could carry more
session.close()
await app.close()
