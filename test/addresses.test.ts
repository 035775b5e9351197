import { lookup } from 'node:dns/promises'
import type { AddressInfo, Socket } from 'node:net'
import { connect as connectHttp2 } from 'node:http2'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, RawClient, upgradeRequest } from './helpers'

// Fastify listens on every address of `localhost`, each with a server of its own (127.0.0.1 and
// ::1 where the machine has both). The plugin covers each of them.
test('every server Fastify listens on upgrades, keeps pipelined requests and speaks prior knowledge', async (t) => {
  const both = (await lookup('localhost', { all: true })).map((address) => address.address).sort().join(' ') === '127.0.0.1 ::1'
  if (!both) {
    // .ci/run gives the machine `::1 localhost`.
    if (process.env.CI !== undefined) throw new Error('localhost must resolve to 127.0.0.1 and ::1 in CI')
    t.comment('skipped: localhost does not resolve to both 127.0.0.1 and ::1 here')
    return
  }
  const app = await build(t, { protocols: [fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] }), fastifyUpgrade.h2c()] })
  app.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.pipe(socket) } } } }, async () => 'plain')
  app.get('/a', async (request) => `a via ${request.raw.httpVersion}`)
  app.get('/b', async () => 'b')
  await app.listen({ port: 0, host: 'localhost' })
  const addresses = app.addresses() as AddressInfo[]
  t.same(addresses.map((address) => address.address).sort(), ['127.0.0.1', '::1'])
  const { port } = addresses[0]

  for (const host of ['127.0.0.1', '::1']) {
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
