import { once } from 'node:events'
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { listen } from './helpers'

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

test('the showcase echo route switches to echo/1 and echoes; its chat echoes (no port needed)', async (t) => {
  const app = await buildShowcase({ logger: false })
  t.teardown(() => app.close())
  const echo = await app.injectUpgrade('/echo', { upgrade: 'echo/1' })
  t.equal(echo.statusCode, 101)
  t.equal(echo.headers.upgrade, 'echo/1')
  const socket = echo.socket as NonNullable<typeof echo.socket>
  socket.write('marco')
  t.equal(String((await once(socket, 'data'))[0]), 'marco')
  socket.end()
  const plain = await app.inject('/echo')
  t.match(plain.body, /Upgrade: echo\/1 to switch/)

  const chat = await app.injectWS('/chat')
  chat.send('polo')
  t.equal(String((await once(chat, 'message'))[0]), 'polo')
  chat.terminate()
})
