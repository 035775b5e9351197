import { Readable } from 'node:stream'
import { test } from 'tap'
import { H2CClient } from 'undici'
import { listen } from './helpers'
import { buildH2c, hasTool, run } from './h2c-helpers'

test('S3: hooks, auth, errors, streams and bodies run on HTTP/2 streams as on HTTP/1.1', async (t) => {
  const app = await buildH2c(t)
  const seen: string[] = []
  app.addHook('onRequest', async (request, reply) => {
    seen.push(`${request.raw.httpVersion} ${request.url}`)
    if (request.headers.authorization !== 'Bearer ok') await reply.code(401).send({ error: 'who are you' })
  })
  const h2 = { upgrade: { protocols: { h2c: true as const } } }
  app.get('/me', h2, async (request) => ({ ip: request.ip, version: request.raw.httpVersion }))
  app.get('/fail', h2, async () => { throw new Error('boom') })
  app.get('/stream', h2, async (_request, reply) => reply.type('text/plain').send(Readable.from(['a', 'b', 'c'])))
  app.post('/json', h2, async (request) => ({ got: request.body }))
  const port = await listen(app)
  const origin = `http://127.0.0.1:${port}`

  if (hasTool(t, 'curl')) {
    const refused = await run('curl', ['-sS', '--http2', '-D', '-', `${origin}/me`])
    t.match(refused.stdout, /^HTTP\/1\.1 401 Unauthorized\r\n/, 'a hook that replies wins: no 101')
    t.notMatch(refused.stdout, /101/)
    const allowed = await run('curl', ['-sS', '--http2', '-H', 'Authorization: Bearer ok', '-w', ' %{http_version}', `${origin}/me`])
    t.equal(allowed.stdout, '{"ip":"127.0.0.1","version":"2.0"} 2')
    t.same(seen.splice(0), ['1.1 /me', '1.1 /me', '2.0 /me'], 'the upgrade request, then stream 1, pass the hooks')
  }

  const undici = new H2CClient(origin)
  t.teardown(() => undici.close())
  const get = async (path: string, authorization = 'Bearer ok'): Promise<[number, string]> => {
    const response = await undici.request({ path, method: 'GET', headers: { authorization } })
    return [response.statusCode, await response.body.text()]
  }
  t.same(await get('/me', 'Bearer no'), [401, '{"error":"who are you"}'])
  t.same(await get('/fail'), [500, '{"statusCode":500,"error":"Internal Server Error","message":"boom"}'])
  t.same(await get('/stream'), [200, 'abc'])
  const posted = await undici.request({ path: '/json', method: 'POST', headers: { authorization: 'Bearer ok', 'content-type': 'application/json' }, body: '{"a":[1,2]}' })
  t.same([posted.statusCode, await posted.body.json()], [200, { got: { a: [1, 2] } }])
  t.same(seen, ['2.0 /me', '2.0 /fail', '2.0 /stream', '2.0 /json'])
})
