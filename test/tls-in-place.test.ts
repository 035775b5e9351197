import type { Socket } from 'node:net'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest } from './helpers'
import { certificate, reader, startTls } from './tls-helpers'

declare module '../types/index' {
  interface UpgradeProtocols { echo: Socket }
}

async function upgradedToTls (t: Parameters<typeof build>[0], handshakeTimeout?: number) {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate()), fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] })], ...(handshakeTimeout === undefined ? {} : { handshakeTimeout }) })
  app.get('/secret', { upgrade: { protocols: { tls: true } } }, async (request) => `secret over ${request.protocol}`)
  app.get('/echo', { upgrade: { protocols: { echo: (socket) => { socket.pipe(socket) } } } }, async () => 'echo')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/secret', 'TLS/1.2'))
  await c.until('\r\n\r\n')
  const socket = await startTls(t, c)
  const read = reader(socket)
  await read('secret over https')
  return { socket, read }
}

test('U5: on a TLS-upgraded connection, a further upgrade switches in place (wss-like)', async (t) => {
  const { socket, read } = await upgradedToTls(t)
  socket.write(upgradeRequest('/echo', 'echo/1'))
  await read('Upgrade: echo/1\r\nConnection: upgrade\r\n\r\n')
  socket.write('ping over TLS')
  t.match(await read('ping over TLS'), /secret over httpsHTTP\/1\.1 101 Switching Protocols\r\nUpgrade: echo\/1\r\nConnection: upgrade\r\n\r\nping over TLS$/)
})

test('S5: with handshakeTimeout: 0 the TLS handshake has no limit, and the connection still switches', async (t) => {
  const { read } = await upgradedToTls(t, 0)
  t.match(await read('secret over https'), /secret over https$/)
})

test('T1: Upgrade: TLS on a connection that is already TLS is served as it is', async (t) => {
  const { socket, read } = await upgradedToTls(t)
  socket.write(upgradeRequest('/secret', 'TLS/1.2'))
  const text = await read('secret over https', 2)
  t.notMatch(text, '101')
  t.match(text, /secret over httpsHTTP\/1\.1 200 OK\r\n[^]*secret over https$/)
})
