// TLS in place (RFC 2817): a route served only over TLS, and a client that upgrades its cleartext
// connection to reach it. `node examples/tls-in-place.mjs` (PORT to choose the port; 0 for any).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import Fastify from 'fastify'
import fastifyUpgrade from 'fastify-upgrade'

// A self-signed certificate for localhost, made with openssl (use your own key.pem and cert.pem).
const dir = mkdtempSync(join(tmpdir(), 'tls-in-place-'))
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
const key = readFileSync(join(dir, 'key.pem'))
const cert = readFileSync(join(dir, 'cert.pem'))
rmSync(dir, { recursive: true })

const app = Fastify()
await app.register(fastifyUpgrade, {
  protocols: [fastifyUpgrade.tls({ key, cert })]
})

// continuation: after the 101 and the handshake, this handler answers the same request over TLS
app.get('/secret', { upgrade: { protocols: { tls: true }, required: true } },
  async (request) => `secret over ${request.protocol}\n`)          // 'https'

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
const { port } = app.server.address()

// In cleartext the route answers 426 Upgrade Required, naming the upgrade it needs.
const plain = await fetch(`http://127.0.0.1:${port}/secret`)
console.log(plain.status, plain.headers.get('upgrade'))           // 426 TLS/1.2, HTTP/1.1

// The client: asks for TLS/1.2 on a cleartext connection, then runs TLS on the same socket.
const socket = net.connect(port, '127.0.0.1', () => {
  socket.write('GET /secret HTTP/1.1\r\nHost: localhost\r\nConnection: upgrade, close\r\nUpgrade: TLS/1.2\r\n\r\n')
})
socket.once('data', (head) => {                                  // HTTP/1.1 101 Switching Protocols
  console.log(head.toString().split('\r\n')[0])
  const secure = tls.connect({ socket, ca: cert, servername: 'localhost' })
  secure.pipe(process.stdout)                                    // the answer to GET /secret, over TLS
  secure.on('end', () => app.close())                            // Connection: close ends it after the answer
})
