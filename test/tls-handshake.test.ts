import { Writable } from 'node:stream'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest } from './helpers'
import { certificate } from './tls-helpers'

/** A debug-level logger that keeps the messages it writes. */
function logger (): { messages: string[], options: { logger: { level: string, stream: Writable } } } {
  const messages: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      messages.push(JSON.parse(chunk.toString()).msg)
      done()
    }
  })
  return { messages, options: { logger: { level: 'debug', stream } } }
}

test('T3: a failed TLS handshake disconnects, logged at debug', async (t) => {
  const log = logger()
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] }, log.options)
  app.get('/secret', { upgrade: { protocols: { tls: true } } }, async () => 'secret')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/secret', 'TLS/1.2'))
  await c.until('\r\n\r\n')
  c.write('GET /secret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await c.closed
  t.notMatch(c.text, 'secret\r\n', 'nothing is answered in cleartext after the 101')
  t.ok(log.messages.includes('fastify-upgrade: TLS handshake failed'))
})

test('T3, S5: a stalled TLS handshake disconnects after handshakeTimeout, logged at debug', async (t) => {
  const log = logger()
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())], handshakeTimeout: 200 }, log.options)
  app.get('/secret', { upgrade: { protocols: { tls: true } } }, async () => 'secret')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/secret', 'TLS/1.2'))
  await c.until('\r\n\r\n')
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 101 /)
  t.ok(log.messages.includes('fastify-upgrade: TLS handshake timed out'))
})
