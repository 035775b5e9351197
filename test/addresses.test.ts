import dns from 'node:dns'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { connect as connectHttp2 } from 'node:http2'
import { test, type Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, RawClient, upgradeRequest } from './helpers'

/** `::1` where the machine can listen on it, else a second IPv4 loopback (Linux answers all of 127/8). */
async function secondLoopback (): Promise<string> {
  const probe = createServer().listen(0, '::1')
  const [outcome] = await Promise.race([once(probe, 'listening').then(() => ['listening']), once(probe, 'error').then(() => ['error'])])
  probe.close()
  return outcome === 'listening' ? '::1' : '127.0.0.2'
}

/**
 * Makes `localhost` resolve to 127.0.0.1 and `second` in this process until the test ends, whatever
 * /etc/hosts says: Fastify asks `dns.lookup` for every address of `localhost` (and Node asks it for
 * the first one to listen on) and listens on each further address with a server of its own.
 */
function localhostResolvesTo (t: Test, second: string): void {
  const real = dns.lookup
  const controlled = (hostname: string, options: unknown, callback?: unknown): void => {
    if (hostname !== 'localhost') return (real as (...args: unknown[]) => void)(hostname, options, callback)
    const answer = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true
    const family = (address: string): number => address.includes(':') ? 6 : 4
    process.nextTick(() => all
      ? answer(null, ['127.0.0.1', second].map((address) => ({ address, family: family(address) })))
      : answer(null, '127.0.0.1', 4))
  }
  dns.lookup = controlled as typeof dns.lookup
  t.teardown(() => { dns.lookup = real })
}

// Fastify listens on every address of `localhost`, each with a server of its own (127.0.0.1 and
// ::1 where the machine has both). The plugin covers each of them.
test('every server Fastify listens on upgrades, keeps pipelined requests and speaks prior knowledge', async (t) => {
  const second = await secondLoopback()
  localhostResolvesTo(t, second)
  const app = await build(t, { protocols: [fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] }), fastifyUpgrade.h2c()] })
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  app.get('/a', async (request) => `a via ${request.raw.httpVersion}`)
  app.get('/b', async () => 'b')
  await app.listen({ port: 0, host: 'localhost' })
  const addresses = app.addresses() as AddressInfo[]
  t.same(addresses.map((address) => address.address).sort(), ['127.0.0.1', second].sort())
  const { port } = addresses[0]

  for (const host of ['127.0.0.1', second]) {
    const c = new RawClient(port, host)
    t.teardown(() => c.close())
    c.write(upgradeRequest('/echo', 'echo/1') + 'ping')
    t.match(await c.until('ping'), /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nping$/, `${host}: upgrade`)

    const pipelined = new RawClient(port, host)
    t.teardown(() => pipelined.close())
    pipelined.write(upgradeRequest('/a', 'foo') + 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n')
    t.match(await pipelined.until('\r\n\r\nb'), /a via 1\.1HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nb$/, `${host}: the pipelined request is answered`)

    const session = connectHttp2(`http://${host.includes(':') ? `[${host}]` : host}:${port}`)
    t.teardown(() => session.destroy())
    const body = await new Promise<string>((resolve, reject) => {
      let text = ''
      session.request({ ':path': '/a' }).setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => resolve(text)).on('error', reject)
    })
    t.equal(body, 'a via 2.0', `${host}: prior knowledge`)
    session.close()
  }
})
