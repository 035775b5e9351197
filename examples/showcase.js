'use strict'

// The showcase: one port, every protocol, the same routes. `npm start` builds and runs it.
const Fastify = require('fastify')
const fastifyUpgrade = require('..')

const { raw, websocket } = fastifyUpgrade

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
</body>
</html>
`
}

async function buildShowcase (options = {}) {
  const app = Fastify({ logger: options.logger ?? true })
  await app.register(fastifyUpgrade, {
    protocols: [websocket(), raw({ name: 'echo', tokens: ['echo/1'] })]
  })

  app.get('/', async (request, reply) => reply.type('text/html; charset=utf-8').send(page(request.host)))

  app.get('/echo', {
    upgrade: { protocols: { echo: (socket) => { socket.pipe(socket) } } }
  }, async () => 'Send Connection: upgrade and Upgrade: echo/1 to switch this connection to an echo.\n')

  app.get('/chat', {
    upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data, binary) => { socket.send(data, { binary }) }) } } }
  }, async () => 'Open / in a browser, or connect a WebSocket client to this route.\n')

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
