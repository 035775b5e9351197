import Fastify from 'fastify'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build } from './helpers'

const { websocket } = fastifyUpgrade

test('websocket() refuses options it cannot use', async (t) => {
  t.throws(() => websocket({ maxPayload: -1 }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.throws(() => websocket({ maxPayload: 1.5 }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.throws(() => websocket({ allowedOrigins: 'https://a.example' as never }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.throws(() => websocket({ handleProtocols: 'chat' as never }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.throws(() => websocket({ perMessageDeflate: 'yes' as never }), { message: /websocket\(\) perMessageDeflate must be a boolean or ws's permessage-deflate options, got "yes"/ })
  t.throws(() => websocket({ maxPayLoad: 1 } as never), { message: 'fastify-upgrade: websocket() has no option "maxPayLoad": did you mean "maxPayload"?' })
  t.throws(() => websocket({ maxBufferedAmount: -1 }), { message: 'fastify-upgrade: websocket() maxBufferedAmount must be an integer ≥ 0, got -1' })
  t.throws(() => websocket({ slowClient: 1000 as never }), { message: 'fastify-upgrade: websocket() slowClient must be "skip" or 1008 or 1013, got 1000' })
  t.throws(() => websocket({ slowClients: 'skip' } as never), { message: 'fastify-upgrade: websocket() has no option "slowClients": did you mean "slowClient"?' })
  t.doesNotThrow(() => websocket({ perMessageDeflate: { threshold: 0 } }))
  t.equal(websocket().name, 'websocket')
  t.same(websocket({ maxPayload: 0, allowedOrigins: [], handleProtocols: () => false }).tokens, ['websocket'])
})

test('a websocket route value is a handler or { handler, protocols?, maxPayload? }, checked at startup', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [true, /protocols\.websocket must be a handler/],
    [null, /protocols\.websocket must be a handler/],
    [{ handler: () => {}, protocol: ['a'] }, /unknown setting "protocol"/],
    [{ protocols: ['a'] }, /handler must be a function/],
    [{ handler: () => {}, protocols: 'chat' }, /protocols must be an array/],
    [{ handler: () => {}, protocols: ['a b'] }, /protocols must be an array/],
    [{ handler: () => {}, maxPayload: -1 }, /maxPayload must be an integer/]
  ]
  for (const [value, message] of cases) {
    const app = Fastify()
    await app.register(fastifyUpgrade, { protocols: [websocket()] })
    t.throws(() => app.get('/ws', { upgrade: { protocols: { websocket: value as never } } }, async () => ''), { code: 'FST_ERR_UPGRADE_ROUTE', message })
    await app.close()
  }
  const app = await build(t, { protocols: [websocket()] })
  t.doesNotThrow(() => app.get('/a', { upgrade: { protocols: { websocket: { handler: () => {}, protocols: ['chat'], maxPayload: 10 } } } }, async () => ''))
})
