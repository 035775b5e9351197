import { test } from 'tap'
import { H2CClient } from 'undici'
import { listen } from './helpers'
import { buildH2c, hasTool, run } from './h2c-helpers'

test('U9, U11: required h2c answers 426 Upgrade: h2c on HTTP/1.1 and is served on HTTP/2 streams', async (t) => {
  const app = await buildH2c(t)
  app.get('/only-h2', { upgrade: { protocols: { h2c: true }, required: true } }, async (request) => `HTTP/${request.raw.httpVersion}`)
  app.get('/only-echo', { upgrade: { protocols: { echo: () => {} }, required: true } }, async () => 'unreachable')
  const port = await listen(app)
  const origin = `http://127.0.0.1:${port}`

  const plain = await app.inject('/only-h2')
  t.equal(plain.statusCode, 426)
  t.equal(plain.headers.upgrade, 'h2c, HTTP/2, HTTP/2.0')
  t.equal(plain.headers.connection, 'upgrade')

  const undici = new H2CClient(origin)
  t.teardown(() => undici.close())
  const h2 = await undici.request({ path: '/only-h2', method: 'GET' })
  t.same([h2.statusCode, await h2.body.text()], [200, 'HTTP/2.0'], 'an HTTP/2 stream satisfies required')

  const other = await undici.request({ path: '/only-echo', method: 'GET' })
  t.equal(other.statusCode, 426, 'a route requiring another protocol answers 426 over HTTP/2')
  t.equal(other.headers.upgrade, undefined, 'without Upgrade')
  t.equal(other.headers.connection, undefined, 'without Connection')
  t.match(await other.body.json(), { statusCode: 426, code: 'FST_ERR_UPGRADE_REQUIRED' })

  if (hasTool(t, 'curl')) {
    const upgraded = await run('curl', ['-sS', '--http2', '-w', ' %{http_version}', `${origin}/only-h2`])
    t.equal(upgraded.stdout, 'HTTP/2.0 2', 'the upgrade itself satisfies it')
  }
})
