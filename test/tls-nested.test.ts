import { connect as tcp } from 'node:net'
import { connect, type TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, listen } from './helpers'
import { certificate } from './tls-helpers'

const OPTIONS_STAR = 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: TLS/1.2\r\n\r\n'

/** Collects what `socket` receives; the function waits until it holds `needle` (or the socket closes). */
function collect (socket: Duplex): (needle: string) => Promise<string> {
  let text = ''
  const waiters: Array<() => void> = []
  const wake = (): void => { for (const resolve of waiters.splice(0)) resolve() }
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); wake() })
  socket.on('close', wake)
  return async (needle) => {
    while (!text.includes(needle) && !socket.destroyed && !socket.readableEnded) await new Promise<void>((resolve) => waiters.push(resolve))
    return text
  }
}

async function secureOver (socket: Duplex): Promise<TLSSocket> {
  socket.removeAllListeners('data')
  const secured = connect({ socket, ca: certificate().cert, servername: 'localhost' })
  secured.on('error', () => {})
  await new Promise((resolve, reject) => {
    secured.once('secureConnect', resolve)
    secured.once('close', reject)
  })
  return secured
}

test('T6: OPTIONS * asking for TLS inside a TLS tunnel is answered 200 over it, never switched again', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())], maxConnections: 3 })
  const port = await listen(app)
  // The reproduction: upgrade, secure, ask again inside, as many times as the server switches.
  let socket: Duplex = tcp(port, '127.0.0.1')
  socket.on('error', () => {})
  t.teardown(() => { socket.destroy() })
  let switches = 0
  for (let level = 0; level < 70; level++) {
    const read = collect(socket)
    socket.write(OPTIONS_STAR)
    const answer = await read('\r\n\r\n')
    if (!answer.startsWith('HTTP/1.1 101 ')) {
      t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, 'the OPTIONS * inside the tunnel is answered as a plain OPTIONS')
      break
    }
    switches++
    socket = await secureOver(socket)
    await collect(socket)('\r\n\r\n')
  }
  t.equal(switches, 1, 'one 101 on the connection')
  t.same(app.upgrade.connections(), { tls: 1 }, 'one upgraded connection counted')
})

test('T6: a route upgrade to TLS inside a TLS tunnel is served as it is, even when a trusted proxy says the request was http', async (t) => {
  const app = await build(t, { protocols: [fastifyUpgrade.tls({ ...certificate(), behindProxy: 'allow' })] }, { trustProxy: true })
  app.get('/page', { upgrade: { protocols: { tls: true } } }, async (request) => `page over ${request.protocol}`)
  const port = await listen(app)
  const socket = tcp(port, '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  const read = collect(socket)
  socket.write('GET /page HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: TLS/1.2\r\n\r\n')
  t.match(await read('\r\n\r\n'), /^HTTP\/1\.1 101 /)
  const secured = await secureOver(socket)
  await collect(secured)('page over https')
  const inside = collect(secured)
  secured.write('GET /page HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: http\r\nConnection: upgrade\r\nUpgrade: TLS/1.2\r\n\r\n')
  t.match(await inside('page over'), /^HTTP\/1\.1 200 OK\r\n[^]*page over http$/, 'answered as a plain request, no second 101')
})
