import type { Socket } from 'node:net'
import Fastify from 'fastify'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { FastifyUpgradeOptions, ProtocolAdapter } from '../types/index'

const { raw } = fastifyUpgrade

test('the package exports the plugin as itself, .default and .fastifyUpgrade, with raw()', async (t) => {
  t.equal(fastifyUpgrade.default, fastifyUpgrade)
  t.equal(fastifyUpgrade.fastifyUpgrade, fastifyUpgrade)
  t.equal(typeof fastifyUpgrade.raw, 'function')
  const meta = (fastifyUpgrade as unknown as Record<symbol, { name: string, fastify: string }>)[Symbol.for('plugin-meta')]
  t.equal(meta.name, 'fastify-upgrade')
  t.equal(meta.fastify, '5.x')
})

const badOptions: Array<[string, unknown, RegExp]> = [
  ['no protocols', {}, /register it with the protocols this server speaks: app\.register\(fastifyUpgrade, \{ protocols: \[websocket\(\)\] \}\)/],
  ['an adapter factory not called', { protocols: [fastifyUpgrade.websocket] }, /protocols\[0\] is the function websocket: call it, as websocket\(\)/],
  ['an adapter that is not one', { protocols: [{}] }, /protocols\[0\] needs a name/],
  ['a null adapter', { protocols: [null] }, /protocols\[0\] is not an adapter: use websocket\(\), h2c\(\), tls\(\{ key, cert \}\) or raw\(\{ name, tokens \}\)/],
  ['an adapter of the contract before 0.2', { protocols: [{ name: 'old', tokens: ['old'], continuation: true, switch () {} }] }, /adapter "old" has `continuation`, which is now route: \{ value: 'continuation' \}/],
  ['an adapter without switch', { protocols: [{ name: 'a', tokens: ['a'] }] }, /adapter "a" needs a switch\(ctx\) function/],
  ['an adapter with an unknown route.value', { protocols: [{ name: 'a', tokens: ['a'], switch () {}, route: { value: 'sometimes' } }] }, /adapter "a" route\.value must be 'handler', 'continuation' or a function/],
  ['a 426 field that is not a string', { protocols: [{ name: 'a', tokens: ['a'], switch () {}, route: { advertiseFields: { 'A-Version': 1 } } }] }, /adapter "a" route\.advertiseFields must be an object of header fields/],
  ['426 fields that are not an object', { protocols: [{ name: 'a', tokens: ['a'], switch () {}, route: { advertiseFields: null } }] }, /adapter "a" route\.advertiseFields must be an object of header fields/],
  ['a serverWide without switch', { protocols: [{ name: 'a', tokens: ['a'], switch () {}, serverWide: {} }] }, /adapter "a" serverWide needs a switch\(ctx\) function/],
  ['a preface without detect', { protocols: [{ name: 'a', tokens: ['a'], switch () {}, preface: { serve () {} } }] }, /adapter "a" preface needs detect\(bytes\) and serve\(ctx\) functions/],
  ['a typo in an option', { protocols: [], handshakeTimout: 5 }, /fastify-upgrade has no option "handshakeTimout": did you mean "handshakeTimeout"\?/],
  ['an option nothing is like', { protocols: [], compression: true }, /fastify-upgrade has no option "compression": known: protocols, preference, maxBodySize/],
  ['a function for a number', { protocols: [], maxBodySize: () => 1 }, /maxBodySize must be a number ≥ 0, got a function/],
  ['two adapters with one name', { protocols: [raw({ name: 'a', tokens: ['a'] }), raw({ name: 'a', tokens: ['b'] })] }, /two adapters are named "a"/],
  ['an adapter with no tokens', { protocols: [raw({ name: 'a', tokens: [] })] }, /adapter "a" needs tokens, the Upgrade protocols it answers/],
  ['a token that is not one', { protocols: [raw({ name: 'a', tokens: ['web socket'] })] }, /"web socket" of adapter "a" is not a protocol token/],
  ['one token for two adapters', { protocols: [raw({ name: 'a', tokens: ['X/1'] }), raw({ name: 'b', tokens: ['x/1'] })] }, /token "x\/1" is answered by two adapters/],
  ['an unknown preference', { protocols: [], preference: 'random' }, /preference must be "client" or "server", got "random"/],
  ['a negative maxBodySize', { protocols: [], maxBodySize: -1 }, /maxBodySize must be a number ≥ 0, got -1/],
  ['a negative maxStreamsPerConnection', { protocols: [], maxStreamsPerConnection: -1 }, /maxStreamsPerConnection must be a number ≥ 0, got -1/],
  ['a string handshakeTimeout', { protocols: [], handshakeTimeout: '10' }, /handshakeTimeout must be a number/],
  ['a NaN maxConnections', { protocols: [], maxConnections: NaN }, /maxConnections must be a number/]
]
for (const [what, options, message] of badOptions) {
  test(`plugin options: ${what} is a clear startup error`, async (t) => {
    const app = Fastify()
    app.register(fastifyUpgrade, options as FastifyUpgradeOptions)
    const error = await app.ready().then(() => undefined, (error: Error & { code: string }) => error)
    t.equal(error?.code, 'FST_ERR_UPGRADE_OPTIONS')
    t.match(error?.message, message)
  })
}

test('raw() needs a name and tokens', async (t) => {
  t.throws(() => raw(undefined as never), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /raw\(\) needs \{ name, tokens \}/ })
  t.throws(() => raw({ name: '', tokens: ['x'] }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.throws(() => raw({ name: 'x', tokens: 'x' } as never), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /raw\(\) tokens must be an array of Upgrade tokens/ })
  t.throws(() => raw('echo' as never), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /raw\(\) takes an options object, got echo/ })
  t.throws(() => raw({ name: 5, tokens: ['x'] } as never), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /raw\(\) name must be a token/ })
  t.throws(() => raw({ name: 'a b', tokens: ['x'] }), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /raw\(\) name must be a token/ })
  t.throws(() => raw({ name: 'x' } as never), { code: 'FST_ERR_UPGRADE_OPTIONS' })
})

test('the plugin registered twice on one server is a startup error', async (t) => {
  const app = Fastify()
  app.register(fastifyUpgrade, { protocols: [] })
  app.register(fastifyUpgrade, { protocols: [] })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ERR_UPGRADE_OPTIONS', message: /registered twice/ })
})

const continuation: ProtocolAdapter = { name: 'cont', tokens: ['cont/1'], route: { value: 'continuation' }, switch () {} }

const badRoutes: Array<[string, unknown, RegExp]> = [
  ['a null upgrade', null, /upgrade must be \{ protocols/],
  ['protocols missing', {}, /upgrade must be \{ protocols/],
  ['protocols null', { protocols: null }, /upgrade must be \{ protocols/],
  ['an empty protocols', { protocols: {} }, /upgrade\.protocols names no protocol/],
  ['an unknown protocol', { protocols: { nope: true } }, /unknown protocol "nope" \(registered: echo, cont\)/],
  ['true for a hand-off protocol', { protocols: { echo: true } }, /protocols\.echo must be a handler \(connection, request\) => \{\}/],
  ['a handler for a continuation protocol', { protocols: { cont: () => {} } }, /protocols\.cont must be true: the route handler answers over cont/],
  ['a required that is not a boolean', { protocols: { cont: true }, required: 'yes' }, /upgrade\.required must be a boolean/]
]
for (const [what, upgrade, message] of badRoutes) {
  test(`route options: ${what} is a startup error naming the route`, async (t) => {
    const app = Fastify()
    await app.register(fastifyUpgrade, { protocols: [raw({ name: 'echo', tokens: ['echo/1'] }), continuation] })
    t.throws(() => app.get('/place', { upgrade: upgrade as never }, async () => 'x'), {
      code: 'FST_ERR_UPGRADE_ROUTE',
      message: new RegExp('^GET /place: ' + message.source)
    })
  })
}

test('route options: an unknown protocol with no adapters registered says so', async (t) => {
  const app = Fastify()
  await app.register(fastifyUpgrade, { protocols: [] })
  t.throws(() => app.get('/', { upgrade: { protocols: { echo: (socket: Socket) => socket.end() } } }, async () => 'x'), {
    message: /unknown protocol "echo" \(registered: none\)/
  })
})

test('adapters are set up once at registration and closed with the server', async (t) => {
  const calls: string[] = []
  const adapter: ProtocolAdapter = {
    name: 'life',
    tokens: ['life'],
    route: { value: 'continuation' },
    start (fastify) { calls.push(`start:${typeof fastify.routing}`) },
    switch () {},
    async close () { calls.push('close') }
  }
  const app = Fastify()
  await app.register(fastifyUpgrade, { protocols: [adapter, raw({ name: 'echo', tokens: ['echo/1'] })] })
  await app.ready()
  t.same(calls, ['start:function'])
  await app.close()
  t.same(calls, ['start:function', 'close'])
})
