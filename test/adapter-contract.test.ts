import type { Socket } from 'node:net'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { FST_ERR_UPGRADE_BAD_REQUEST } from '../lib/errors'
import type { ProtocolAdapter, UpgradeContext } from '../types/index'
import { build, client, listen, upgradeRequest } from './helpers'

const { raw } = fastifyUpgrade

/** A third-party hand-off adapter that refuses or declines as the request asks. */
const picky: ProtocolAdapter = {
  name: 'picky',
  tokens: ['picky/1'],
  check (request, reply) {
    if (request.headers['x-picky'] === 'decline') return false
    if (request.headers['x-picky'] === 'refuse') {
      reply.header('x-picky-version', '1')
      throw new FST_ERR_UPGRADE_BAD_REQUEST('picky says no')
    }
    return { 'X-Picky': 'yes' }
  },
  switch (ctx: UpgradeContext) {
    (ctx.value as (socket: Socket) => void)(ctx.socket)
  }
}

async function pickyApp (t: Parameters<typeof build>[0], preference: 'client' | 'server' = 'client') {
  const app = await build(t, { protocols: [picky, raw({ name: 'echo', tokens: ['echo/1'] })], preference })
  app.get('/', {
    upgrade: { protocols: { picky: (socket: Socket) => socket.end('picky'), echo: (socket: Socket) => socket.end('echo') } } as never
  }, async () => 'plain')
  return await listen(app)
}

test('an adapter that declines lets the next acceptable protocol switch', async (t) => {
  const port = await pickyApp(t)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'picky/1, echo/1', ['X-Picky: decline']))
  await c.closed
  t.equal(c.text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo/1\r\nConnection: upgrade\r\n\r\necho')
})

test('an adapter that declines the only offer leaves a plain answer', async (t) => {
  const port = await pickyApp(t)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'picky/1', ['X-Picky: decline']))
  t.match(await c.until('plain'), /^HTTP\/1\.1 200 OK[^]*plain$/)
})

test('an adapter that refuses answers its HTTP error with its headers, and no switch', async (t) => {
  const port = await pickyApp(t)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'picky/1, echo/1', ['X-Picky: refuse']))
  const text = await c.until('"}')
  t.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(text, /\r\nx-picky-version: 1\r\n/)
  t.match(text, /"message":"picky says no"/)
})

test('an adapter adds headers to the 101', async (t) => {
  const port = await pickyApp(t)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'picky/1'))
  await c.closed
  t.equal(c.text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: picky/1\r\nConnection: upgrade\r\nX-Picky: yes\r\n\r\npicky')
})

test('U4: preference server picks the route\'s first protocol among those offered', async (t) => {
  const port = await pickyApp(t, 'server')
  const c = client(t, port)
  c.write(upgradeRequest('/', 'echo/1, picky/1'))
  await c.closed
  t.match(c.text, /\r\nUpgrade: picky\/1\r\n[^]*picky$/)
})

test('a continuation adapter: route value true, its 101 names the protocols layer-ascending, what follows is its own', async (t) => {
  const seen: unknown[] = []
  const next: ProtocolAdapter = {
    name: 'next',
    tokens: ['NEXT/1.0'],
    route: { value: 'continuation' },
    check: () => ({ upgrade: 'NEXT/1.0, HTTP/1.1' }),
    switch (ctx) {
      seen.push(ctx.value, ctx.token, ctx.handshakeTimeout, typeof ctx.request.log.info)
      ctx.socket.end('over NEXT')
    }
  }
  const app = await build(t, { protocols: [next], handshakeTimeout: 1234 })
  app.get('/', { upgrade: { protocols: { next: true } } as never }, async () => 'plain')
  const port = await listen(app)
  const c = client(t, port)
  c.write(upgradeRequest('/', 'next/1.0'))
  await c.closed
  t.equal(c.text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: NEXT/1.0, HTTP/1.1\r\nConnection: upgrade\r\n\r\nover NEXT')
  t.same(seen, [true, 'next/1.0', 1234, 'function'])
})

const misuses: Array<[string, Record<string, string>, RegExp]> = [
  ['a 101 with an empty Upgrade', { upgrade: ' ' }, /must name the protocol in Upgrade/],
  ['a Connection field of its own', { Connection: 'close' }, /Connection is the plugin's to write/],
  ['a header value with CRLF', { 'X-A': 'a\r\nSet-Cookie: x' }, /Invalid character in header content/],
  ['a header name that is not a token', { 'X A': 'a' }, /Header name must be a valid HTTP token/],
  ['an Upgrade value with CRLF', { upgrade: 'x\r\n\r\nHTTP/1.1 200 OK' }, /Invalid character in header content/]
]
for (const [what, fields, message] of misuses) {
  test(`S2: an adapter cannot write ${what}: the upgrade is refused with 500, and nothing switches`, async (t) => {
    let switched = false
    const bad: ProtocolAdapter = {
      name: 'bad',
      tokens: ['bad'],
      route: { value: 'continuation' },
      check: () => fields,
      switch () { switched = true }
    }
    const app = await build(t, { protocols: [bad] })
    app.get('/', { upgrade: { protocols: { bad: true } } as never }, async () => 'plain')
    const port = await listen(app)
    const c = client(t, port)
    c.write(upgradeRequest('/', 'bad'))
    const text = await c.until('"}')
    t.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*"code":"FST_ERR_UPGRADE_RESPONSE"/)
    t.match(text, message)
    t.notMatch(text, /Switching Protocols|Set-Cookie/)
    t.equal(switched, false)
  })
}

test('S7: an adapter whose peek callback throws loses its connection, not the process; the error is logged', async (t) => {
  const errors: string[] = []
  const thrower: ProtocolAdapter = {
    name: 'thrower',
    tokens: ['thrower/1'],
    switch (ctx: UpgradeContext) {
      ctx.peek((bytes) => bytes.length >= 4 ? true : undefined, () => { throw new Error('bad bytes') })
    }
  }
  const app = await build(t, { protocols: [thrower] })
  app.addHook('onError', async () => {})
  app.log.error = ((obj: { err?: { cause?: Error } }) => { errors.push(String(obj.err?.cause?.message)) }) as never
  app.get('/', { upgrade: { protocols: { thrower: () => {} } } as never }, async () => 'plain')
  const c = client(t, await listen(app))
  c.write(upgradeRequest('/', 'thrower/1') + 'four')
  await c.closed
  t.match(c.text, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: thrower\/1\r\n/)
  t.same(errors, ['bad bytes'])
})

test('S7: an adapter whose preface serve throws loses that connection, not the process; others go on', async (t) => {
  const errors: unknown[] = []
  const greedy: ProtocolAdapter = {
    name: 'greedy',
    tokens: ['greedy/1'],
    preface: {
      detect: (bytes) => bytes.length < 5 ? undefined : bytes.subarray(0, 5).toString() === 'HELLO',
      serve () { throw new Error('cannot serve') }
    },
    switch () {}
  }
  const app = await build(t, { protocols: [greedy] })
  app.log.error = ((obj: { err?: Error }) => { errors.push(obj.err?.message) }) as never
  app.get('/', async () => 'plain')
  const port = await listen(app)
  const hello = client(t, port)
  hello.write('HELLO there')
  await hello.closed
  t.equal(hello.text, '')
  t.same(errors, ['cannot serve'])
  const plain = client(t, port)
  plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await plain.until('plain'), /^HTTP\/1\.1 200 OK\r\n/)
})

test('a preface adapter can take a line off a new connection and give the rest to HTTP/1.1 (as the PROXY protocol would)', async (t) => {
  const seen: string[] = []
  const proxyLine: ProtocolAdapter = {
    name: 'proxy-line',
    tokens: ['proxy-line'],
    preface: {
      detect: (bytes) => bytes.length < 6 ? undefined : bytes.subarray(0, 6).toString() === 'PROXY ',
      serve (ctx) {
        ctx.socket.once('data', (chunk: Buffer) => {
          const end = chunk.indexOf('\r\n')
          seen.push(chunk.subarray(0, end).toString())
          ctx.serve(ctx.socket, { head: chunk.subarray(end + 2) })
        })
      }
    },
    switch () {}
  }
  const app = await build(t, { protocols: [proxyLine] })
  app.get('/', async (request) => `hello ${request.protocol}`)
  const c = client(t, await listen(app))
  c.write('PROXY TCP4 192.0.2.1 192.0.2.2 5000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await c.until('hello http'), /^HTTP\/1\.1 200 OK\r\n[^]*hello http$/)
  t.same(seen, ['PROXY TCP4 192.0.2.1 192.0.2.2 5000 80'])
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await c.until('hello httpHTTP'), /hello httpHTTP\/1\.1 200 OK/, 'the connection is HTTP/1.1 from then on')
})

test('S7: a server-wide check that throws refuses that OPTIONS * with its error, and the server goes on', async (t) => {
  const wide: ProtocolAdapter = {
    name: 'wide',
    tokens: ['wide/1'],
    switch () {},
    serverWide: {
      check () { throw new Error('no') },
      switch () {}
    }
  }
  const app = await build(t, { protocols: [wide] })
  const port = await listen(app)
  const c = client(t, port)
  c.write('OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: wide/1\r\n\r\n')
  t.match(await c.until('"}'), /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*"message":"no"/)
  const next = client(t, port)
  next.write('GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n')
  t.match(await next.until('"}'), /^HTTP\/1\.1 404 /)
})
