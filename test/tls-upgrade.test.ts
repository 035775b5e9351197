import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest } from './helpers'
import { certificate, reader, startTls } from './tls-helpers'

test('T1-T2: 101 TLS/1.2, HTTP/1.1, then the original request is answered over TLS', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  app.get('/secret', { upgrade: { protocols: { tls: true } } }, async (request) => `secret over ${request.protocol}`)
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/secret', 'TLS/1.2'))
  const head = await c.until('\r\n\r\n')
  t.equal(head, 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: TLS/1.2, HTTP/1.1\r\n\r\n')
  const socket = await startTls(t, c)
  const read = reader(socket)
  const text = await read('secret over')
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(text, /secret over https$/)
  console.log(text)
})
