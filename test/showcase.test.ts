import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { client, listen, upgradeRequest } from './helpers'

// The showcase runs the built package, as `npm start` does.
const { buildShowcase } = require('../examples/showcase.js') as { buildShowcase: (options: { logger: boolean }) => Promise<FastifyInstance> }

test('the showcase answers GET / with a page listing what to try', async (t) => {
  const app = await buildShowcase({ logger: false })
  t.teardown(() => app.close())
  const port = await listen(app)
  const response = await fetch(`http://127.0.0.1:${port}/`)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/html/)
  const page = await response.text()
  t.match(page, /<h1>fastify-upgrade showcase<\/h1>/)
  t.match(page, `<pre data-command="echo-plain">curl http://127.0.0.1:${port}/echo</pre>`, 'its commands name the port it listens on')
  t.match(page, '<link rel="icon" href="data:,">', 'no favicon request')
})

test('the showcase echo route switches to echo/1 and echoes', async (t) => {
  const app = await buildShowcase({ logger: false })
  t.teardown(() => app.close())
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1') + 'marco')
  t.equal(await c.until('marco'), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo/1\r\nConnection: upgrade\r\n\r\nmarco')
  const plain = await fetch(`http://127.0.0.1:${port}/echo`)
  t.match(await plain.text(), /Upgrade: echo\/1 to switch/)
})
