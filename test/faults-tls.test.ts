import { once } from 'node:events'
import { Duplex } from 'node:stream'
import { connect } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest, type RawClient } from './helpers'
import { dribble, none, settled } from './faults-helpers'
import { certificate } from './tls-helpers'

async function tlsApp (t: Test, handshakeTimeout?: number): Promise<{ app: FastifyInstance, port: number }> {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())], handshakeTimeout })
  app.get('/secret', { upgrade: { protocols: { tls: true } } }, async () => 'secret')
  return { app, port: await listen(app) }
}

/** A raw connection that got its 101 to TLS. */
async function switched (t: Test, port: number): Promise<RawClient> {
  const c = client(t, port)
  c.write(upgradeRequest('/secret', 'TLS/1.2'))
  await c.until('\r\n\r\n')
  c.socket.removeAllListeners('data')
  return c
}

/** Starts the client's side of the handshake on a switched connection. */
function handshake (c: RawClient): void {
  const socket = connect({ socket: c.socket, ca: certificate().cert, servername: 'localhost' })
  socket.on('error', () => {})
}

/** The client's first handshake flight (its ClientHello), as a TLS client sends it. */
async function clientHello (): Promise<Buffer> {
  const chunks: Buffer[] = []
  let first: () => void
  const written = new Promise<void>((resolve) => { first = resolve })
  const wire = new Duplex({
    read () {},
    write (chunk: Buffer, _encoding, done) {
      chunks.push(chunk)
      first()
      done()
    }
  })
  const socket = connect({ socket: wire, servername: 'localhost' })
  socket.on('error', () => {})
  await written
  socket.destroy()
  return Buffer.concat(chunks)
}

test('S5: resets a few ms into 100 TLS handshakes leave nothing tracked and no socket', async (t) => {
  const { app, port } = await tlsApp(t)
  await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    const c = await switched(t, port)
    handshake(c)
    // 0 to 4 ms: before, during and after the server's first flight.
    await new Promise((resolve) => setTimeout(resolve, i % 5))
    c.socket.resetAndDestroy()
    await c.closed
  }))
  // Well before handshakeTimeout (10 s): the end of the connection ends its tracking.
  t.same(await settled(app), none(app))
})

test('S5: a client that ends the connection right after the 101, or after its ClientHello, is let go at once', async (t) => {
  const { app, port } = await tlsApp(t)
  const hello = await clientHello()
  const quiet = await switched(t, port)
  const greeted = await switched(t, port)
  const start = Date.now()
  quiet.socket.end()
  greeted.socket.end(hello)
  await Promise.all([quiet.closed, greeted.closed])
  const took = Date.now() - start
  // Not at handshakeTimeout (10 s): the server sees the end.
  t.ok(took < 5000, `closed after ${took} ms`)
  t.same(await settled(app), none(app))
})

test('S5: a reset during the TLS handshake harms nothing: the next upgrade is served', async (t) => {
  const { app, port } = await tlsApp(t)
  const c = await switched(t, port)
  c.socket.write(await clientHello())
  // The server's first flight: the handshake is under way.
  await once(c.socket, 'data')
  c.socket.resetAndDestroy()
  t.same(await settled(app), none(app))
  const next = await switched(t, port)
  const socket = connect({ socket: next.socket, ca: certificate().cert, servername: 'localhost' })
  t.teardown(() => socket.destroy())
  await once(socket, 'secureConnect')
  socket.write('GET /secret HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  let text = ''
  socket.on('data', (chunk: Buffer) => { text += chunk.toString() })
  await once(socket, 'close')
  t.match(text, /^HTTP\/1\.1 200 [^]*\r\n\r\nsecret$/)
})

test('S5: a ClientHello dribbled after the 101 is cut off at handshakeTimeout', async (t) => {
  const handshakeTimeout = 300
  const { app, port } = await tlsApp(t, handshakeTimeout)
  const c = await switched(t, port)
  const took = await dribble(c.socket, await clientHello(), 50)
  t.ok(took < handshakeTimeout + 1000, `closed after ${took} ms`)
  t.same(await settled(app), none(app))
})

for (const how of ['reset', 'end'] as const) {
  test(`S5: a client ${how === 'reset' ? 'reset' : 'FIN'} once the connection speaks HTTPS ends its tracking too`, async (t) => {
    const { app, port } = await tlsApp(t)
    const c = await switched(t, port)
    const socket = connect({ socket: c.socket, ca: certificate().cert, servername: 'localhost' })
    socket.on('error', () => {})
    await once(socket, 'secureConnect')
    socket.write('GET /secret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await once(socket, 'data')
    t.same(app.upgrade.connections(), { tls: 1 }, 'a keep-alive HTTPS connection')
    if (how === 'reset') c.socket.resetAndDestroy()
    else socket.end()
    await c.closed
    t.same(await settled(app), none(app))
  })
}
