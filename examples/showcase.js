'use strict'

// The showcase: one port, every protocol, the same routes. `npm start` builds and runs it.
const Fastify = require('fastify')
const fastifyUpgrade = require('..')

const { h2c, raw } = fastifyUpgrade

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
    protocols: [h2c(), raw({ name: 'echo', tokens: ['echo/1'] })]
  })

  app.get('/', async (request, reply) => reply.type('text/html; charset=utf-8').send(page(request.host)))

  app.get('/echo', {
    upgrade: { protocols: { echo: (socket) => { socket.pipe(socket) } } }
  }, async () => 'Send Connection: upgrade and Upgrade: echo/1 to switch this connection to an echo.\n')

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
