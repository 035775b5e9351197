import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import { test, type Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { BehindProxy } from '../types/index'
import { build, client, listen, logs, upgradeRequest, type RawClient } from './helpers'
import { certificate } from './tls-helpers'

const { h2c, tls, websocket } = fastifyUpgrade

// The h2c tokens as clients send them: curl's (with HTTP2-Settings) and the seed's aliases (without).
const H2C = [
  ['h2c', ['Connection: upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAAP__']],
  ['HTTP/2', []],
  ['HTTP/2.0', []]
] as const
const WEBSOCKET = ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']
const OPTIONS_STAR = (extra: string[]): string => upgradeRequest('*', 'TLS/1.2', extra, 'OPTIONS')

/** What shows a proxy: a forwarding field, or a peer `trustProxy` trusts (127.0.0.1 here). */
const SIGNS: Array<{ name: string, header?: string, fastify?: FastifyServerOptions }> = [
  { name: 'Via', header: 'Via: 1.1 nginx' },
  { name: 'Forwarded', header: 'Forwarded: for=192.0.2.1;proto=http' },
  { name: 'X-Forwarded-For', header: 'X-Forwarded-For: 192.0.2.1' },
  { name: 'X-Forwarded-Proto', header: 'x-forwarded-proto: http' },
  { name: 'trustProxy: true', fastify: { trustProxy: true } },
  { name: "trustProxy: '127.0.0.1'", fastify: { trustProxy: '127.0.0.1' } }
]

/** An app with every kind of adapter, its warnings kept, listening. */
async function app (t: Test, behindProxy?: BehindProxy, fastifyOptions: FastifyServerOptions = {}): Promise<{ port: number, warnings: () => string[] }> {
  const log = logs()
  const fastify = await build(t, {
    protocols: [websocket(), h2c({ behindProxy }), tls({ ...certificate(), behindProxy }), fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] })]
  }, { ...fastifyOptions, logger: { level: 'warn', stream: log.stream } })
  fastify.get('/plain', { upgrade: { protocols: { h2c: true, tls: true } } }, async (request) => `plain over ${request.raw.httpVersion}`)
  fastify.get('/ws', { upgrade: { protocols: { websocket: (socket) => { socket.close() } } } }, async () => 'no websocket')
  fastify.get('/echo', { upgrade: { protocols: { echo: (socket) => { socket.end('echo here') } } } }, async () => 'no echo')
  const warnings = (): string[] => log.lines.filter((line) => line.level === 40).map((line) => line.msg)
  return { port: await listen(fastify), warnings }
}

async function ask (t: Test, port: number, request: string, until: string): Promise<RawClient> {
  const c = client(t, port)
  c.write(request)
  await c.until(until)
  return c
}

for (const sign of SIGNS) {
  const extra = sign.header === undefined ? [] : [sign.header]
  test(`S6: through a proxy (${sign.name}) h2c and tls are declined, WebSocket and raw switch, one warning each`, async (t) => {
    const { port, warnings } = await app(t, undefined, sign.fastify)
    for (const [token, fields] of H2C) {
      const c = await ask(t, port, upgradeRequest('/plain', token, [...extra, ...fields]), 'plain over 1.1')
      t.match(c.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nplain over 1\.1$/, `${token}: served over HTTP/1.1`)
    }
    const secure = await ask(t, port, upgradeRequest('/plain', 'TLS/1.2', extra), 'plain over 1.1')
    t.match(secure.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nplain over 1\.1$/, 'TLS/1.2: served over HTTP/1.1')
    // OPTIONS * has no Fastify request, and the trusted peer is told all the same.
    const star = await ask(t, port, OPTIONS_STAR(extra), '\r\n\r\n')
    t.match(star.text, /^HTTP\/1\.1 200 OK\r\n/, 'OPTIONS * gets its 200 over HTTP/1.1')
    t.notMatch(star.text, /101|upgrade/i)
    const ws = await ask(t, port, upgradeRequest('/ws', 'websocket', [...extra, ...WEBSOCKET]), '\r\n\r\n')
    t.match(ws.text, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: websocket\r\n/, 'WebSocket switches')
    const echo = await ask(t, port, upgradeRequest('/echo', 'echo/1', extra), 'echo here')
    t.match(echo.text, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: echo\/1\r\nConnection: upgrade\r\n\r\necho here$/, 'raw switches')
    t.same(warnings(), [
      "fastify-upgrade: declined an upgrade to h2c that came through a proxy (Via, Forwarded, X-Forwarded-* or a trusted peer); h2c({ behindProxy: 'allow' }) allows it, see docs/deployment.md",
      "fastify-upgrade: declined an upgrade to tls that came through a proxy (Via, Forwarded, X-Forwarded-* or a trusted peer); tls({ behindProxy: 'allow' }) allows it, see docs/deployment.md"
    ], 'one warning per adapter and server, naming the option')
  })

  test(`S6: through a proxy (${sign.name}) with behindProxy: 'allow', h2c and tls switch`, async (t) => {
    const { port, warnings } = await app(t, 'allow', sign.fastify)
    for (const [token, fields] of H2C) {
      const c = await ask(t, port, upgradeRequest('/plain', token, [...extra, ...fields]), '\r\n\r\n')
      t.match(c.text, new RegExp(`^HTTP/1\\.1 101 Switching Protocols\\r\\nUpgrade: ${token}\\r\\n`), `${token} switches`)
    }
    const secure = await ask(t, port, upgradeRequest('/plain', 'TLS/1.2', extra), '\r\n\r\n')
    t.match(secure.text, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: TLS\/1\.2, HTTP\/1\.1\r\n/)
    const star = await ask(t, port, OPTIONS_STAR(extra), '\r\n\r\n')
    t.match(star.text, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: TLS\/1\.2, HTTP\/1\.1\r\n/)
    t.same(warnings(), [])
  })
}

test('S6: with no sign of a proxy the seed request gets its 101, and OPTIONS * its TLS', async (t) => {
  const { port, warnings } = await app(t)
  const seed = await ask(t, port, 'GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2, HTTP/3\r\n\r\n', '\r\n\r\n')
  t.equal(seed.text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: HTTP/2\r\nConnection: upgrade\r\n\r\n')
  const star = await ask(t, port, upgradeRequest('*', 'echo/1, TLS/1.2', [], 'OPTIONS'), '\r\n\r\n')
  t.match(star.text, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: TLS\/1\.2, HTTP\/1\.1\r\n/, 'an offer with no server-wide upgrade is skipped')
  t.same(warnings(), [])
})

test('S6: OPTIONS * from a peer trustProxy trusts is declined as a route upgrade is: 200 over HTTP/1.1, no tunnel', async (t) => {
  const { port } = await app(t, undefined, { trustProxy: '127.0.0.1' })
  const star = await ask(t, port, OPTIONS_STAR([]), '\r\n\r\n')
  t.match(star.text, /^HTTP\/1\.1 200 OK\r\n/)
  t.notMatch(star.text, /101/)
})

test("S6: behindProxy must be 'refuse' or 'allow'", async (t) => {
  t.throws(() => h2c({ behindProxy: 'yes' as BehindProxy }), { code: 'FST_ERR_UPGRADE_OPTIONS', message: 'fastify-upgrade: h2c() behindProxy must be "refuse" or "allow", got "yes"' })
  t.throws(() => tls({ ...certificate(), behindProxy: true as unknown as BehindProxy }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
})

test('S6: cameThroughProxy is public, for a third-party adapter that opens a tunnel too', async (t) => {
  const tunnel = { ...fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] }), check: (request: FastifyRequest) => fastifyUpgrade.cameThroughProxy(request) ? false : undefined }
  const fastify = await build(t, { protocols: [tunnel] })
  fastify.get('/echo', { upgrade: { protocols: { echo: (socket) => { socket.end('echo here') } } } }, async () => 'no echo')
  const port = await listen(fastify)
  const proxied = await ask(t, port, upgradeRequest('/echo', 'echo/1', ['Via: 1.1 proxy']), 'no echo')
  t.match(proxied.text, /^HTTP\/1\.1 200 OK\r\n[^]*no echo$/)
  const direct = await ask(t, port, upgradeRequest('/echo', 'echo/1'), 'echo here')
  t.match(direct.text, /^HTTP\/1\.1 101 Switching Protocols\r\n/)
})
