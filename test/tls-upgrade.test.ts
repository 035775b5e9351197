import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest } from './helpers'
import { certificate, reader, startTls } from './tls-helpers'

const SWITCHED = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.2, HTTP/1.1\r\nConnection: upgrade\r\n\r\n'

async function app (t: Parameters<typeof build>[0]): ReturnType<typeof build> {
  const fastify = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  fastify.get('/secret', { upgrade: { protocols: { tls: true } } }, async (request) => `secret over ${request.protocol}`)
  fastify.post('/echo-body', { upgrade: { protocols: { tls: true } } }, async (request) => ({
    protocol: request.protocol,
    body: request.body,
    upgrade: request.headers.upgrade ?? null,
    expect: request.headers.expect ?? null
  }))
  return fastify
}

test('T1-T2, U5, U6: 101 TLS/1.2, HTTP/1.1, then the original request is answered over TLS and the connection stays HTTPS', async (t) => {
  const port = await listen(await app(t))
  const c = client(t, port)
  c.write(upgradeRequest('/secret', 'TLS/1.2'))
  t.equal(await c.until('\r\n\r\n'), SWITCHED)
  const socket = await startTls(t, c)
  const read = reader(socket)
  const first = await read('secret over')
  t.match(first, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(first, /\r\nConnection: keep-alive\r\n/)
  t.match(first, /secret over https$/)

  socket.write('GET /secret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  const both = await read('secret over https', 2)
  t.equal(both.split('secret over https').length, 3, 'a second request on the same TLS connection')
})

test('U6, U8: the body of the upgrade request is read in full and replayed over TLS (Content-Length)', async (t) => {
  const port = await listen(await app(t))
  const c = client(t, port)
  const body = JSON.stringify({ hello: 'world' })
  c.write(upgradeRequest('/echo-body', 'TLS/1.2', ['Content-Type: application/json', `Content-Length: ${body.length}`], 'POST') + body)
  t.equal(await c.until('\r\n\r\n'), SWITCHED)
  const read = reader(await startTls(t, c))
  const text = await read('}')
  t.same(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)), { protocol: 'https', body: { hello: 'world' }, upgrade: null, expect: null })
})

test('U7, U8: a chunked body after 100 Continue is replayed over TLS with a fresh Content-Length', async (t) => {
  const port = await listen(await app(t))
  const c = client(t, port)
  c.write(upgradeRequest('/echo-body', 'TLS/1.2', ['Content-Type: application/json', 'Transfer-Encoding: chunked', 'Expect: 100-continue'], 'POST'))
  t.equal(await c.until('\r\n\r\n'), 'HTTP/1.1 100 Continue\r\n\r\n')
  c.write('6\r\n{"a":1\r\n1\r\n}\r\n0\r\n\r\n')
  t.equal(await c.until(SWITCHED), 'HTTP/1.1 100 Continue\r\n\r\n' + SWITCHED)
  const read = reader(await startTls(t, c))
  const text = await read('}')
  t.match(text, /\r\ncontent-length: \d+\r\n/i)
  t.same(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)), { protocol: 'https', body: { a: 1 }, upgrade: null, expect: null })
})

test('T2: Connection: close on the upgrade request closes the TLS connection after the answer', async (t) => {
  const port = await listen(await app(t))
  const c = client(t, port)
  c.write(upgradeRequest('/secret', 'TLS/1.2').replace('Connection: upgrade', 'Connection: close, Upgrade'))
  t.equal(await c.until('\r\n\r\n'), SWITCHED)
  const socket = await startTls(t, c)
  const read = reader(socket)
  const closed = new Promise((resolve) => socket.once('close', resolve))
  const text = await read('secret over https')
  t.match(text, /\r\nConnection: close\r\n/)
  await closed
  t.pass('the server closed the connection')
})

test('S5: fastify.close() ends an idle TLS connection, and lets a response under way finish with Connection: close', async (t) => {
  const fastify = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  let release: () => void = () => {}
  const started = new Promise<void>((resolve) => {
    fastify.get('/slow', { upgrade: { protocols: { tls: true } } }, async () => {
      resolve()
      await new Promise<void>((resolve) => { release = resolve })
      return 'done'
    })
  })
  fastify.get('/secret', { upgrade: { protocols: { tls: true } } }, async () => 'secret')
  const port = await listen(fastify)

  const idle = client(t, port)
  idle.write(upgradeRequest('/secret', 'TLS/1.2'))
  await idle.until('\r\n\r\n')
  const idleSocket = await startTls(t, idle)
  await reader(idleSocket)('secret')

  const busy = client(t, port)
  busy.write(upgradeRequest('/slow', 'TLS/1.2'))
  await busy.until('\r\n\r\n')
  const busySocket = await startTls(t, busy)
  const read = reader(busySocket)
  await started

  const closing = fastify.close()
  await new Promise((resolve) => idleSocket.once('close', resolve))
  t.pass('the idle connection is closed')
  release()
  const text = await read('done')
  t.match(text, /\r\nConnection: close\r\n/)
  await closing
})

test('H6, S7: inside a connection upgraded to TLS, an h2c upgrade and preface are declined, and the process lives', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate()), fastifyUpgrade.h2c()] })
  app.get('/news', { upgrade: { protocols: { h2c: true } } }, async (request) => `news over ${request.raw.httpVersion}`)
  const port = await listen(app)
  for (let i = 0; i < 2; i++) {
    const c = client(t, port)
    c.write('OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: TLS/1.2\r\n\r\n')
    await c.until('\r\n\r\n')
    const socket = await startTls(t, c)
    const read = reader(socket)
    await read('\r\n\r\n')
    socket.write('GET /news HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n')
    t.match(await read('news over'), /\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*news over 1\.1$/, 'served over HTTP/1.1 on TLS')
    socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0')
    await new Promise((resolve) => socket.once('close', resolve))
  }
  const after = client(t, port)
  after.write('GET /news HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await after.until('news over'), /^HTTP\/1\.1 200 OK\r\n/, 'the server is still up')
})

test('T5: only OPTIONS * upgrades the whole connection; GET * goes through Fastify, hooks and all', async (t) => {
  const seen: string[] = []
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  app.addHook('onRequest', async (request) => { seen.push(`${request.method} ${request.url}`) })
  const port = await listen(app)
  for (const method of ['GET', 'DELETE']) {
    const c = client(t, port)
    c.write(`${method} * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: TLS/1.2\r\n\r\n`)
    const text = await c.until('}')
    t.notMatch(text, /101/)
    t.match(text, /^HTTP\/1\.1 4\d\d /)
  }
  t.same(seen, ['GET *', 'DELETE *'])
})
