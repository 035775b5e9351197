import { connect, type Settings } from 'node:http2'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { listen } from './helpers'
import { buildH2c } from './h2c-helpers'

test('h2c() checks its options', async (t) => {
  const h2c = fastifyUpgrade.h2c
  t.throws(() => h2c({ priorKnowledge: 'yes' as unknown as boolean }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.throws(() => h2c({ sessionTimeout: -1 }), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /sessionTimeout must be a number ≥ 0, got -1/ })
  t.throws(() => h2c({ maxConcurrentStreams: '9' as unknown as number }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.throws(() => h2c({ maxHeaderListSize: Number.NaN }), { code: 'FST_ERR_UPGRADE_OPTIONS' })
  t.match(h2c(), { name: 'h2c', tokens: ['h2c', 'HTTP/2', 'HTTP/2.0'], route: { value: 'continuation' } })
})

test('the server announces maxConcurrentStreams and maxHeaderListSize', async (t) => {
  const app = await buildH2c(t, { maxConcurrentStreams: 7, maxHeaderListSize: 4096 })
  app.get('/', async () => 'hi')
  const session = connect(`http://127.0.0.1:${await listen(app)}`)
  t.teardown(() => session.destroy())
  const settings = await new Promise<Settings>((resolve) => session.once('remoteSettings', resolve))
  t.match(settings, { maxConcurrentStreams: 7, maxHeaderListSize: 4096 })
  const big = session.request({ ':path': '/', 'x-big': 'b'.repeat(5000) })
  const status = await new Promise((resolve) => {
    big.on('response', (headers) => resolve(headers[':status']))
    big.on('error', () => resolve('reset'))
  })
  t.not(status, 200, 'a header list over the limit is refused')
})
