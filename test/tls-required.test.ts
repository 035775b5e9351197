import type { FastifyServerOptions } from 'fastify'
import { test } from 'tap'
import { Agent, request } from 'undici'
import fastifyUpgrade from '../lib/index'
import { build, listen } from './helpers'
import { certificate } from './tls-helpers'

const secret = { upgrade: { protocols: { tls: true as const }, required: true } }

test('T4, U9: a cleartext request to a route that requires TLS gets 426 naming the TLS tokens, best first, then HTTP/1.1', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  app.get('/secret', secret, async () => 'secret')
  const res = await app.inject('/secret')
  t.equal(res.statusCode, 426)
  t.equal(res.headers.upgrade, 'TLS/1.2, HTTP/1.1')
  t.equal(res.headers.connection, 'upgrade')
  t.match(res.json(), { statusCode: 426, message: 'This resource is only served after an upgrade to TLS/1.2, HTTP/1.1' })
})

test('T4: the 426 lists every TLS version configured, highest first', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls({ ...certificate(), minVersion: 'TLSv1', maxVersion: 'TLSv1.3' })] })
  app.get('/secret', secret, async () => 'secret')
  const res = await app.inject('/secret')
  t.equal(res.headers.upgrade, 'TLS/1.3, TLS/1.2, TLS/1.1, TLS/1.0, HTTP/1.1')
})

test('T4: no 426 behind a trusted proxy that says the request came over https', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] }, { trustProxy: true })
  app.get('/secret', secret, async (request) => `secret over ${request.protocol}`)
  const res = await app.inject({ url: '/secret', headers: { 'x-forwarded-proto': 'https' } })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'secret over https')
})

test('T4: X-Forwarded-Proto from a proxy that is not trusted does not make the request secure', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  app.get('/secret', secret, async () => 'secret')
  const res = await app.inject({ url: '/secret', headers: { 'x-forwarded-proto': 'https' } })
  t.equal(res.statusCode, 426)
})

test('T4: no 426 on an https server', async (t) => {
  const { key, cert } = certificate()
  const app = await build(t, { protocols: [fastifyUpgrade.tls({ key, cert })] }, { https: { key, cert } } as FastifyServerOptions)
  app.get('/secret', secret, async (request) => `secret over ${request.protocol}`)
  const port = await listen(app)
  const dispatcher = new Agent({ connect: { ca: cert, servername: 'localhost' } })
  t.teardown(() => dispatcher.close())
  const res = await request(`https://127.0.0.1:${port}/secret`, { dispatcher })
  t.equal(res.statusCode, 200)
  t.equal(await res.body.text(), 'secret over https')
})
