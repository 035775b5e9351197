// Two copies of the package in one process, as npm may install them: the build (the package by
// its own name) loads first, then the sources. Each watches every new Fastify instance.
import other, { raw } from 'fastify-upgrade'
import fastifyUpgrade from '../lib/index'
import type { Socket } from 'node:net'
import Fastify from 'fastify'
import { test } from 'tap'
import { client, listen, upgradeRequest } from './helpers'

test('a route the other copy of the package compiled is not reported as unseen, and upgrades', async (t) => {
  t.not(other, fastifyUpgrade, 'two copies')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(other, { protocols: [raw({ name: 'echo', tokens: ['echo/1'] })] })
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end('switched') } } } }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/echo', 'echo/1'))
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nswitched$/)
})

test('the two copies on one server are one plugin registered twice', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(other, { protocols: [] })
  await t.rejects(async () => { await app.register(fastifyUpgrade, { protocols: [] }) }, { code: 'FST_ERR_UPGRADE_OPTIONS', message: /registered twice/ })
})
