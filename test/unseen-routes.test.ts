import type { Socket } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, logs } from './helpers'

const echo = { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }
const protocols = [fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] })]

function app (t: Test): FastifyInstance {
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  return fastify
}

test('a route declared before the plugin makes ready() fail, naming the route and the fix', async (t) => {
  const fastify = app(t)
  fastify.get('/chat', echo, async () => 'plain')
  await fastify.register(fastifyUpgrade, { protocols })
  await t.rejects(async () => await fastify.ready(), {
    code: 'FST_ERR_UPGRADE_UNSEEN_ROUTE',
    message: /^GET \/chat has an upgrade option that fastify-upgrade never saw: fastify-upgrade was registered after this route, or in a scope that does not contain it: `await app\.register\(fastifyUpgrade, …\)` before declaring the route/
  })
})

test('a route declared after registering the plugin without await makes ready() fail', async (t) => {
  const fastify = app(t)
  fastify.register(fastifyUpgrade, { protocols })
  fastify.get('/chat', echo, async () => 'plain')
  await t.rejects(fastify.listen({ port: 0, host: '127.0.0.1' }), { code: 'FST_ERR_UPGRADE_UNSEEN_ROUTE', message: /^GET \/chat / })
  t.equal(fastify.server.listening, false, 'nothing is served')
})

test('a route in a sibling scope of the plugin makes ready() fail', async (t) => {
  const fastify = app(t)
  await fastify.register(async (scope) => {
    await scope.register(fastifyUpgrade, { protocols })
    scope.get('/inside', echo, async () => 'plain')
  })
  await fastify.register(async (sibling) => {
    sibling.get('/sibling', echo, async () => 'plain')
  })
  await t.rejects(async () => await fastify.ready(), { code: 'FST_ERR_UPGRADE_UNSEEN_ROUTE', message: /^GET \/sibling / })
})

test('a route with upgrade on a server without the plugin makes ready() fail and says to register it', async (t) => {
  const fastify = app(t)
  fastify.get('/chat', echo, async () => 'plain')
  await t.rejects(async () => await fastify.ready(), {
    code: 'FST_ERR_UPGRADE_UNSEEN_ROUTE',
    message: /^GET \/chat has an upgrade option that fastify-upgrade never saw: fastify-upgrade is not registered on this server: `await app\.register\(fastifyUpgrade, \{ protocols: \[…\] \}\)` before declaring the route$/
  })
})

test('routes in the plugin\'s scope and its children are seen: ready() succeeds', async (t) => {
  const fastify = await build(t)
  fastify.get('/chat', echo, async () => 'plain')
  await fastify.register(async (child) => {
    child.get('/child', echo, async () => 'plain')
  }, { prefix: '/scope' })
  await t.resolves(async () => await fastify.ready())
})

test('an app created before the module was loaded logs that unseen routes cannot be reported', async (t) => {
  const { stream, lines } = logs()
  const fastify = Fastify({ logger: { stream } })
  t.teardown(() => fastify.close())
  // What an app created before any copy of the package subscribed looks like: not marked.
  delete (fastify as unknown as Record<symbol, unknown>)[Symbol.for('fastify-upgrade.watched')]
  await fastify.register(fastifyUpgrade, { protocols })
  t.match(lines, [{ level: 40, msg: /^fastify-upgrade was loaded after this Fastify instance was created: a route with an upgrade option that the plugin does not see cannot be reported/ }])
})

test('another plugin\'s route option named upgrade, on an app without fastify-upgrade, is left alone', async (t) => {
  const fastify = app(t)
  fastify.get('/page', { upgrade: 'nightly' } as never, async () => 'plain')
  await t.resolves(async () => await fastify.ready())
})

test('an onRoute hook added after the plugin that sets upgrade makes ready() fail, naming the fix', async (t) => {
  const fastify = app(t)
  await fastify.register(fastifyUpgrade, { protocols })
  fastify.addHook('onRoute', (route) => { if (route.url === '/late') route.upgrade = echo.upgrade })
  fastify.get('/late', async () => 'plain')
  await t.rejects(async () => await fastify.ready(), {
    code: 'FST_ERR_UPGRADE_UNSEEN_ROUTE',
    message: /^GET \/late has an upgrade option that fastify-upgrade never saw: an onRoute hook added after fastify-upgrade set it: add that hook before registering fastify-upgrade$/
  })
})
