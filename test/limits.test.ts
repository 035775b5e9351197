import { connect as http2Connect } from 'node:http2'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { buildH2c } from './h2c-helpers'
import { build, client, listen, upgradeRequest } from './helpers'
import { certificate } from './tls-helpers'

test('S9: an upgrade refused at maxConnections gets 503, then its connection closes', async (t) => {
  const app = await build(t, { maxConnections: 0 })
  app.get('/echo', { upgrade: { protocols: { echo: (socket) => { socket.end() } } } }, async () => 'plain')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/echo', 'echo/1'))
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/)
  t.match(c.text, /\r\nconnection: close\r\n/i)
})

test('S9: OPTIONS * refused at maxConnections gets 503, then its connection closes', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())], maxConnections: 0 })
  const c = client(t, await listen(app))
  c.write('OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: TLS/1.2\r\n\r\n')
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/)
  t.match(c.text, /\r\nconnection: close\r\n/i)
})

test('S9: a prior-knowledge HTTP/2 session counts against maxConnections; beyond it the connection is closed', async (t) => {
  const app = await buildH2c(t, {}, { maxConnections: 1 })
  app.get('/', async () => 'hi')
  const port = await listen(app)
  const first = http2Connect(`http://127.0.0.1:${port}`)
  t.teardown(() => first.destroy())
  const answer = first.request({ ':path': '/' })
  answer.resume()
  await new Promise((resolve) => answer.once('end', resolve))
  t.equal(app.upgrade.connections().h2c, 1, 'the idle session is held, and counted')
  const second = http2Connect(`http://127.0.0.1:${port}`)
  second.on('error', () => {})
  t.teardown(() => second.destroy())
  let settings = false
  second.once('remoteSettings', () => { settings = true })
  await new Promise((resolve) => second.once('close', resolve))
  t.equal(settings, false, 'the second connection closed before its session began')
  first.close()
  await new Promise((resolve) => first.once('close', resolve))
  const third = http2Connect(`http://127.0.0.1:${port}`)
  t.teardown(() => third.destroy())
  const served = third.request({ ':path': '/' })
  let body = ''
  served.on('data', (chunk: Buffer) => { body += String(chunk) })
  await new Promise((resolve) => served.once('end', resolve))
  t.equal(body, 'hi', 'a closed session frees its place')
})

test('U8: an OPTIONS * upgrade whose body the client cuts short gets 400, not 500', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  const c = client(t, await listen(app))
  c.write('OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: TLS/1.2\r\nContent-Length: 10\r\n\r\n123456789')
  c.socket.end()
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 400 Bad Request\r\n[^]*"code":"FST_ERR_UPGRADE_ABORTED"/)
})
