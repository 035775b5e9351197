import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, client, listen } from './helpers'
import { certificate, reader, startTls } from './tls-helpers'

// What ipptool -E sends (CUPS httpUpdate → http_send with HTTP_FIELD_UPGRADE).
const OPTIONS_STAR = 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2,TLS/1.1,TLS/1.0\r\n\r\n'

async function app (t: Parameters<typeof build>[0], options = {}): ReturnType<typeof build> {
  const fastify = await build(t, { protocols: [fastifyUpgrade.tls(certificate()), fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] })], ...options })
  fastify.get('/secret', { upgrade: { protocols: { tls: true }, required: true } }, async (request) => `secret over ${request.protocol}`)
  return fastify
}

test('T2, U5: OPTIONS * with Upgrade: TLS/1.2,TLS/1.1,TLS/1.0 switches the connection and gets 200 over TLS', async (t) => {
  const c = client(t, await listen(await app(t)))
  c.write(OPTIONS_STAR)
  t.equal(await c.until('\r\n\r\n'), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.2, HTTP/1.1\r\nConnection: upgrade\r\n\r\n')
  const socket = await startTls(t, c)
  const read = reader(socket)
  t.equal(await read('\r\n\r\n'), 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
  socket.write('GET /secret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  t.match(await read('secret over https'), /\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*secret over https$/, 'the connection goes on as HTTPS')
})

test('T2: OPTIONS * with Connection: close gets its 200 over TLS, then the connection closes', async (t) => {
  const c = client(t, await listen(await app(t)))
  c.write(OPTIONS_STAR.replace('Connection: Upgrade', 'Connection: Upgrade, close'))
  await c.until('\r\n\r\n')
  const socket = await startTls(t, c)
  const closed = new Promise((resolve) => socket.once('close', resolve))
  const read = reader(socket)
  t.equal(await read('\r\n\r\n'), 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
  await closed
  t.pass('closed')
})

test('U4: OPTIONS * offering only protocols with no server-wide upgrade is routed as usual', async (t) => {
  const c = client(t, await listen(await app(t)))
  c.write(OPTIONS_STAR.replace('TLS/1.2,TLS/1.1,TLS/1.0', 'echo/1'))
  t.match(await c.until('}'), /^HTTP\/1\.1 404 Not Found\r\n/)
})

test('S5: OPTIONS * is not upgraded at maxConnections: 503 with Retry-After, as a route gets', async (t) => {
  const c = client(t, await listen(await app(t, { maxConnections: 0 })))
  c.write(OPTIONS_STAR)
  t.match(await c.until('}'), /^HTTP\/1\.1 503 Service Unavailable\r\nretry-after: 5\r\n[^]*"code":"FST_ERR_UPGRADE_TOO_MANY"/)
  t.notMatch(c.text, /101/)
})

test('U8: OPTIONS * with a body over maxBodySize gets 413 and no switch', async (t) => {
  const c = client(t, await listen(await app(t, { maxBodySize: 4 })))
  c.write(OPTIONS_STAR.replace('\r\n\r\n', '\r\nContent-Length: 10\r\n\r\n0123456789'))
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 413 Payload Too Large\r\n/)
  t.notMatch(c.text, '101')
})

test('U8: OPTIONS * with a small body reads it before the switch', async (t) => {
  const c = client(t, await listen(await app(t)))
  c.write(OPTIONS_STAR.replace('\r\n\r\n', '\r\nContent-Length: 4\r\n\r\n'))
  c.write('abcd')
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 101 /)
  const read = reader(await startTls(t, c))
  t.equal(await read('\r\n\r\n'), 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
})

test('S5: OPTIONS * whose body stalls is cut off at handshakeTimeout, with no switch', async (t) => {
  const port = await listen(await app(t, { handshakeTimeout: 100 }))
  const stalled = client(t, port)
  stalled.write(OPTIONS_STAR.replace('\r\n\r\n', '\r\nContent-Length: 10\r\n\r\n0123'))
  await stalled.closed
  t.match(stalled.text, /^HTTP\/1\.1 408 Request Timeout\r\n/)
  const c = client(t, port)
  c.write(OPTIONS_STAR)
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 101 /, 'the server goes on')
})
