'use strict'

// The showcase: one port, every protocol, the same routes. `npm start` builds and runs it.
const { execFileSync } = require('node:child_process')
const { mkdtempSync, readFileSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const Fastify = require('fastify')
const fastifyUpgrade = require('..')

const { h2c, raw, tls, websocket } = fastifyUpgrade

// The TLS demo's key and certificate: TLS_KEY and TLS_CERT (PEM files), or a self-signed pair made with openssl.
function certificate () {
  if (process.env.TLS_KEY && process.env.TLS_CERT) {
    return { key: readFileSync(process.env.TLS_KEY), cert: readFileSync(process.env.TLS_CERT) }
  }
  const dir = mkdtempSync(join(tmpdir(), 'fastify-upgrade-showcase-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const TLS_CLIENT = `const net = require('node:net')
const tls = require('node:tls')
const socket = net.connect(3000, '127.0.0.1', () => {
  socket.write('GET /secret HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: upgrade\\r\\nUpgrade: TLS/1.2\\r\\n\\r\\n')
})
socket.once('data', (head) => {             // HTTP/1.1 101 Switching Protocols, Upgrade: TLS/1.2, HTTP/1.1
  const secure = tls.connect({ socket, rejectUnauthorized: false })  // the showcase's certificate is self-signed
  secure.pipe(process.stdout)                // the answer to GET /secret, over TLS
})`

function page (host) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>fastify-upgrade showcase</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f3f3f3;padding:.1rem .3rem}pre{padding:.6rem;overflow-x:auto}</style>
</head>
<body>
<h1>fastify-upgrade showcase</h1>
<p>One Fastify server, one port: each route below says which protocols it switches to with HTTP/1.1 <code>Upgrade</code>.</p>
<h2>Echo, a custom protocol</h2>
<p><code>GET /echo</code> switches to <code>echo/1</code> and sends back every byte it gets:</p>
<pre>curl -sN --no-buffer -H 'Connection: upgrade' -H 'Upgrade: echo/1' http://${host}/echo</pre>
<p>Without <code>Upgrade</code> it is an ordinary route: <code>curl http://${host}/echo</code>.</p>
<h2>Chat, a WebSocket</h2>
<p><code>GET /chat</code> switches to <code>websocket</code> (RFC 6455, on ws) through the same route, hooks
and types as the rest of the app, and echoes every message. Type one:</p>
<form id="chat"><input id="message" autocomplete="off" placeholder="a message" aria-label="message"> <button>Send</button></form>
<pre id="log" aria-live="polite"></pre>
<script>
const log = document.getElementById('log')
const input = document.getElementById('message')
const socket = new WebSocket('ws://' + location.host + '/chat')
socket.onopen = () => { log.textContent += 'connected\\n' }
socket.onmessage = (event) => { log.textContent += 'echo: ' + event.data + '\\n' }
socket.onclose = (event) => { log.textContent += 'closed (' + event.code + ')\\n' }
document.getElementById('chat').onsubmit = (event) => {
  event.preventDefault()
  socket.send(input.value)
  input.value = ''
}
</script>
<h2>TLS in place (RFC 2817)</h2>
<p><code>GET /secret</code> is only served over TLS. In cleartext it answers <code>426 Upgrade Required</code> with
<code>Upgrade: TLS/1.2, HTTP/1.1</code>: <code>curl -i http://${host}/secret</code>. A client that asks for
<code>Upgrade: TLS/1.2</code> gets <code>101</code>, runs the TLS handshake on the same connection and gets the answer over
TLS; the connection then serves HTTPS. curl cannot do this; this Node client can:</p>
<pre>${TLS_CLIENT.replace(/</g, '&lt;')}</pre>
<p>CUPS clients speak it too: <code>ipptool -E</code> upgrades with <code>OPTIONS *</code> before its first IPP request.</p>
<h2>HTTP/2 over cleartext (h2c)</h2>
<p><code>GET /news.html</code> upgrades to HTTP/2 on the same connection: the 101 answers, then the
same request is answered on stream 1, and every later request on that connection is an HTTP/2 stream
served by the same routes (this page included):</p>
<pre>curl -v --http2 http://${host}/news.html
nghttp -uv http://${host}/news.html</pre>
<p>Prior knowledge works on this port too: <code>curl --http2-prior-knowledge http://${host}/</code>.
The seed exchange, by hand (curl shows the 101, then waits: it does not speak HTTP/2 after it
unless asked with <code>--http2</code>):</p>
<pre>curl -v --max-time 2 -H 'Connection: upgrade' -H 'Upgrade: HTTP/2, HTTP/3' http://${host}/news.html</pre>
</body>
</html>
`
}

async function buildShowcase (options = {}) {
  const app = Fastify({ logger: options.logger ?? true })
  await app.register(fastifyUpgrade, {
    protocols: [websocket(), h2c(), raw({ name: 'echo', tokens: ['echo/1'] }), tls(options.certificate ?? certificate())]
  })

  app.get('/', async (request, reply) => reply.type('text/html; charset=utf-8').send(page(request.host)))

  app.get('/echo', {
    upgrade: { protocols: { echo: (socket) => { socket.pipe(socket) } } }
  }, async () => 'Send Connection: upgrade and Upgrade: echo/1 to switch this connection to an echo.\n')

  app.get('/chat', {
    upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data, binary) => { socket.send(data, { binary }) }) } } }
  }, async () => 'Open / in a browser, or connect a WebSocket client to this route.\n')
  app.get('/secret', {
    upgrade: { protocols: { tls: true }, required: true }
  }, async (request) => `This secret came to ${request.ip} over ${request.protocol}.\n`)
  // The seed of the project: the request continues over HTTP/2, its response on stream 1.
  app.get('/news.html', {
    upgrade: { protocols: { h2c: true } }
  }, async (request, reply) => reply.type('text/html; charset=utf-8')
    .send(`<!doctype html><title>news</title><h1>News</h1><p>Served over HTTP/${request.raw.httpVersion}.</p>\n`))

  return app
}

module.exports = { buildShowcase }

if (require.main === module) {
  buildShowcase().then((app) => app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' }))
    .catch((error) => {
      console.error(error)
      process.exit(1)
    })
}
