'use strict'

// The showcase: one port, every protocol, the same routes. `npm start` builds and runs it.
const { execFileSync } = require('node:child_process')
const { mkdtempSync, readFileSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const Fastify = require('fastify')
const fastifyUpgrade = require('fastify-upgrade')

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

// A printer for `ipptool -E`: it answers Get-Printer-Attributes (RFC 8011 §4.2.5) with the attributes
// CUPS's own get-printer-attributes.test expects, each in its IPP syntax (RFC 8010 §3.5.2).
const IPP = { integer: 0x21, boolean: 0x22, enum: 0x23, text: 0x41, name: 0x42, keyword: 0x44, uri: 0x45, charset: 0x47, language: 0x48, mime: 0x49, noValue: 0x13 }

function ippAttribute (tag, name, ...values) {
  return Buffer.concat(values.map((value, i) => {
    const bytes = typeof value === 'boolean'
      ? Buffer.from([value ? 1 : 0])
      : typeof value === 'number' ? Buffer.from([value >>> 24, value >>> 16, value >>> 8, value].map((b) => b & 0xff)) : Buffer.from(value)
    const n = Buffer.from(i === 0 ? name : '')  // further values of one attribute have no name
    const head = Buffer.alloc(5 + n.length)
    head[0] = tag
    head.writeUInt16BE(n.length, 1)
    n.copy(head, 3)
    head.writeUInt16BE(bytes.length, 3 + n.length)
    return Buffer.concat([head, bytes])
  }))
}

function printerAttributes (request, uri, info) {
  const getPrinterAttributes = request.length >= 8 && request.readUInt16BE(2) === 0x000b
  const head = Buffer.alloc(8)
  request.copy(head, 0, 0, 2)                                 // the request's version
  head.writeUInt16BE(getPrinterAttributes ? 0x0000 : 0x0501, 2) // successful-ok, or server-error-operation-not-supported
  request.copy(head, 4, 4, 8)                                 // its request-id
  const operation = [0x01, ippAttribute(IPP.charset, 'attributes-charset', 'utf-8'), ippAttribute(IPP.language, 'attributes-natural-language', 'en')]
  const printer = !getPrinterAttributes
    ? []
    : [0x04,
        ippAttribute(IPP.charset, 'charset-configured', 'utf-8'),
        ippAttribute(IPP.charset, 'charset-supported', 'utf-8'),
        ippAttribute(IPP.keyword, 'compression-supported', 'none'),
        ippAttribute(IPP.mime, 'document-format-default', 'application/octet-stream'),
        ippAttribute(IPP.mime, 'document-format-supported', 'application/octet-stream'),
        ippAttribute(IPP.language, 'generated-natural-language-supported', 'en'),
        ippAttribute(IPP.keyword, 'ipp-versions-supported', '1.1', '2.0'),
        ippAttribute(IPP.noValue, 'media-col-default', ''),
        ippAttribute(IPP.language, 'natural-language-configured', 'en'),
        ippAttribute(IPP.enum, 'operations-supported', 0x000b),
        ippAttribute(IPP.text, 'printer-info', 'The fastify-upgrade showcase: it prints nothing'),
        ippAttribute(IPP.boolean, 'printer-is-accepting-jobs', false),
        ippAttribute(IPP.text, 'printer-location', 'behind an HTTP/1.1 Upgrade'),
        ippAttribute(IPP.text, 'printer-make-and-model', 'fastify-upgrade showcase'),
        ippAttribute(IPP.uri, 'printer-more-info', info),
        ippAttribute(IPP.name, 'printer-name', 'fastify-upgrade'),
        ippAttribute(IPP.enum, 'printer-state', 3),             // idle
        ippAttribute(IPP.keyword, 'printer-state-reasons', 'none'),
        ippAttribute(IPP.integer, 'printer-up-time', Math.max(1, Math.round(process.uptime()))),
        ippAttribute(IPP.uri, 'printer-uri-supported', uri),
        ippAttribute(IPP.keyword, 'uri-authentication-supported', 'none'),
        ippAttribute(IPP.keyword, 'uri-security-supported', 'tls')]
  return Buffer.concat([head, ...operation, ...printer, 0x03].map((part) => Buffer.isBuffer(part) ? part : Buffer.from([part])))
}

const HTML = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escape = (text) => text.replace(/[&<>"']/g, (c) => HTML[c])

// The commands on the page, for the port and address the page was asked on. Each is one shell command
// that ends by itself; test/showcase-commands.test.ts runs every one as the page shows it.
function commands (host) {
  const { hostname, port } = new URL(`http://${host}`)
  const connect = `require("node:net").connect(${port || 80}, "${hostname.replace(/^\[|\]$/g, '')}"`
  const request = (path, upgrade) => `"GET ${path} HTTP/1.1\\r\\nHost: ${host}\\r\\nConnection: upgrade\\r\\nUpgrade: ${upgrade}\\r\\n\\r\\n"`
  return {
    echo: `echo 'hello, echo' | node -e 'const socket = ${connect}, () => {
  socket.write(${request('/echo', 'echo/1')})
  process.stdin.pipe(socket)
})
socket.pipe(process.stdout)'`,
    'echo-plain': `curl http://${host}/echo`,
    'secret-426': `curl -i http://${host}/secret`,
    'secret-tls': `node -e 'const socket = ${connect}, () => {
  socket.write(${request('/secret', 'TLS/1.2').replace('Connection: upgrade', 'Connection: upgrade, close')})
})
socket.once("data", (head) => {
  process.stdout.write(head)
  require("node:tls").connect({ socket, rejectUnauthorized: false }).pipe(process.stdout)
})'`,
    ipptool: `ipptool -E -tv ipp://${host}/ipp/print get-printer-attributes.test`,
    'h2c-curl': `curl -v --http2 http://${host}/news.html`,
    'h2c-nghttp': `nghttp -uv http://${host}/news.html`,
    'h2c-prior-knowledge': `curl --http2-prior-knowledge http://${host}/news.html`,
    'h2c-seed': `node -e 'const socket = ${connect}, () => {
  socket.write(${request('/news.html', 'HTTP/2, HTTP/3')})
})
socket.once("data", (head) => { process.stdout.write(head); socket.destroy() })'`
  }
}

// Where the page was asked for, and the other copy of it: the cleartext port (PORT), and HTTPS with
// HTTP/2 (HTTPS_PORT), where the chat's WebSocket runs as a stream of the page's own connection.
function transport (request, { secure, ports }) {
  const { hostname } = request
  if (secure) {
    return {
      host: `${hostname}:${ports.http}`,
      intro: `<p>This copy of the page came over HTTPS with HTTP/${escape(request.raw.httpVersion)} (a self-signed certificate
made at start). A browser that speaks RFC 8441 opens the chat's WebSocket as a stream of this same connection; the
server logs it. The commands talk to the cleartext port, <a href="http://${escape(hostname)}:${ports.http}/">${ports.http}</a>.</p>`
    }
  }
  return {
    host: request.host,
    intro: `<p>The same page over HTTPS with HTTP/2, its chat on the page's own connection (RFC 8441):
<a href="https://${escape(hostname)}:${ports.https}/">port ${ports.https}</a> (a self-signed certificate made at start).</p>`
  }
}

function page ({ host, intro }) {
  const command = commands(host)
  const pre = (name) => `<pre data-command="${name}">${escape(command[name])}</pre>`
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>fastify-upgrade showcase</title>
<link rel="icon" href="data:,">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f3f3f3;padding:.1rem .3rem}pre{padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere}p code{white-space:nowrap}</style>
</head>
<body>
<h1>fastify-upgrade showcase</h1>
<p>One Fastify server, one port: each route below says which protocols it switches to with HTTP/1.1 <code>Upgrade</code>.
Every command below runs as shown, in a shell that can reach this address.</p>
${intro}
<h2>Echo, a custom protocol</h2>
<p><code>GET /echo</code> switches to <code>echo/1</code> and sends back every byte it gets. curl cannot send after a
<code>101</code>; this Node client prints the <code>101</code>, then the echo of what it reads (leave out
<code>echo … |</code> to type lines yourself, Ctrl-D to end):</p>
${pre('echo')}
<p>Without <code>Upgrade</code> it is an ordinary route:</p>
${pre('echo-plain')}
<h2>Chat, a WebSocket</h2>
<p><code>GET /chat</code> switches to <code>websocket</code> (RFC 6455, on ws) through the same route, hooks
and types as the rest of the app, and echoes every message. Type one:</p>
<form id="chat"><input id="message" autocomplete="off" placeholder="a message" aria-label="message"> <button>Send</button></form>
<pre id="log" aria-live="polite"></pre>
<script>
const log = document.getElementById('log')
const input = document.getElementById('message')
const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat')
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
<code>Upgrade: TLS/1.2, HTTP/1.1</code>:</p>
${pre('secret-426')}
<p>A client that asks for <code>Upgrade: TLS/1.2</code> gets <code>101</code>, runs the TLS handshake on the same
connection and gets the answer over TLS; the connection then serves HTTPS (<code>Connection: close</code> ends it
after this answer). curl cannot do this; this Node client can (it accepts the showcase's self-signed certificate):</p>
${pre('secret-tls')}
<p>CUPS clients speak it too: <code>ipptool -E</code> upgrades with <code>OPTIONS *</code>, then asks this
showcase's printer at <code>/ipp/print</code> (served over TLS only) for its attributes, with the test file CUPS
installs (Debian: <code>cups-ipp-utils</code>):</p>
${pre('ipptool')}
<h2>HTTP/2 over cleartext (h2c)</h2>
<p><code>GET /news.html</code> upgrades to HTTP/2 on the same connection: the 101 answers, then the
same request is answered on stream 1, and every later request on that connection is an HTTP/2 stream
served by the same routes (this page included):</p>
${pre('h2c-curl')}
${pre('h2c-nghttp')}
<p>Prior knowledge works on this port too:</p>
${pre('h2c-prior-knowledge')}
<p>The seed exchange, by hand: <code>Upgrade: HTTP/2, HTTP/3</code> gets a <code>101</code> naming
<code>HTTP/2</code> (this client stops there; after it the server speaks HTTP/2):</p>
${pre('h2c-seed')}
</body>
</html>
`
}

/**
 * The showcase app. `secure`: served over HTTPS with HTTP/2 (and HTTP/1.1 for clients without it);
 * `ports`: the ports of both copies, for the page's links and commands.
 */
async function buildShowcase (options = {}) {
  const cert = options.certificate ?? certificate()
  const secure = options.secure ?? false
  const ports = options.ports ?? { http: 3000, https: 3443 }
  const app = Fastify({ logger: options.logger ?? true, ...(secure ? { http2: true, https: { allowHTTP1: true, ...cert } } : {}) })
  await app.register(fastifyUpgrade, {
    protocols: [websocket(), h2c(), raw({ name: 'echo', tokens: ['echo/1'] }), tls(cert)]
  })

  app.get('/', async (request, reply) => reply.type('text/html; charset=utf-8').send(page(transport(request, { secure, ports }))))

  app.get('/echo', {
    upgrade: { protocols: { echo: (socket) => { socket.pipe(socket) } } }
  }, async () => 'Send Connection: upgrade and Upgrade: echo/1 to switch this connection to an echo.\n')

  app.get('/chat', {
    upgrade: {
      protocols: {
        websocket: (socket, request) => {
          // HTTP/2: the WebSocket is one stream of the connection.
          request.log.info({ httpVersion: request.raw.httpVersion, stream: request.raw.stream?.id }, `chat over HTTP/${request.raw.httpVersion}`)
          socket.on('message', (data, binary) => { socket.send(data, { binary }) })
        }
      }
    }
  }, async () => 'Open / in a browser, or connect a WebSocket client to this route.\n')
  app.get('/secret', {
    upgrade: { protocols: { tls: true }, required: true }
  }, async (request) => `This secret came to ${request.ip} over ${request.protocol}.\n`)
  // The seed of the project: the request continues over HTTP/2, its response on stream 1.
  app.get('/news.html', {
    upgrade: { protocols: { h2c: true } }
  }, async (request, reply) => reply.type('text/html; charset=utf-8')
    .send(`<!doctype html><title>news</title><h1>News</h1><p>Served over HTTP/${request.raw.httpVersion}.</p>\n`))
  // A printer that speaks IPP over TLS only: `ipptool -E` upgrades the connection first.
  app.addContentTypeParser('application/ipp', { parseAs: 'buffer' }, (request, body, done) => { done(null, body) })
  app.post('/ipp/print', {
    upgrade: { protocols: { tls: true }, required: true }
  }, async (request, reply) => reply.type('application/ipp')
    .send(printerAttributes(request.body, `ipp://${request.host}/ipp/print`, `http://${request.host}/`)))

  return app
}

module.exports = { buildShowcase }

if (require.main === module) {
  const host = process.env.HOST ?? '127.0.0.1'
  const ports = { http: Number(process.env.PORT ?? 3000), https: Number(process.env.HTTPS_PORT ?? 3443) }
  const cert = certificate()
  Promise.all([false, true].map(async (secure) => {
    const app = await buildShowcase({ certificate: cert, secure, ports })
    await app.listen({ port: secure ? ports.https : ports.http, host })
  })).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
