import { test } from 'tap'
import { H2CClient } from 'undici'
import { listen } from './helpers'
import { buildH2c, hasTool, run } from './h2c-helpers'

async function newsApp (t: Parameters<typeof buildH2c>[0]): Promise<string> {
  const app = await buildH2c(t)
  app.get('/news.html', { upgrade: { protocols: { h2c: true } } }, async (request) => `<h1>news</h1> HTTP/${request.raw.httpVersion}\n`)
  return `http://127.0.0.1:${await listen(app)}/news.html`
}

test('H3, U6: curl --http2 upgrades and gets the response over HTTP/2; the connection is reused', async (t) => {
  if (!hasTool(t, 'curl')) return
  const url = await newsApp(t)
  const once = await run('curl', ['-sS', '--http2', '-D', '-', url])
  t.match(once.stdout, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\nHTTP\/2 200 \r\n/)
  t.match(once.stdout, /<h1>news<\/h1> HTTP\/2\.0\n$/)
  const twice = await run('curl', ['-sS', '--http2', '-w', '%{http_version} %{num_connects}\n', url, url])
  t.equal(twice.stdout, '<h1>news</h1> HTTP/2.0\n2 1\n<h1>news</h1> HTTP/2.0\n2 0\n', 'the second request reuses the upgraded connection')
})

// curl 7.88 fails a second URL on a reused prior-knowledge connection against Fastify's own
// `http2: true` server too: reuse is proven with nghttp below.
test('H5: curl --http2-prior-knowledge on the HTTP/1.1 port; HTTP/1.1 keeps working', async (t) => {
  if (!hasTool(t, 'curl')) return
  const url = await newsApp(t)
  const prior = await run('curl', ['-sS', '--http2-prior-knowledge', '-w', '%{http_version}\n', url])
  t.equal(prior.stdout, '<h1>news</h1> HTTP/2.0\n2\n')
  const plain = await run('curl', ['-sS', '-w', '%{http_version}\n', url])
  t.equal(plain.stdout, '<h1>news</h1> HTTP/1.1\n1.1\n')
})

test('H3: nghttp -u upgrades, then sends a second request on the same connection', async (t) => {
  if (!hasTool(t, 'nghttp')) return
  const url = await newsApp(t)
  const result = await run('nghttp', ['-u', '-v', url, url.replace('news.html', 'news.html?again')])
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /HTTP Upgrade response\n/)
  t.match(result.stdout, /recv \(stream_id=1\) :status: 200/)
  t.match(result.stdout, /recv \(stream_id=13\) :status: 200/, 'the second request on a new stream')
  t.equal(result.stdout.match(/<h1>news<\/h1> HTTP\/2\.0/g)?.length, 2)
})

test('H5: nghttp with prior knowledge, two requests on one connection', async (t) => {
  if (!hasTool(t, 'nghttp')) return
  const url = await newsApp(t)
  const result = await run('nghttp', ['-v', url, url.replace('news.html', 'news.html?again')])
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /recv \(stream_id=13\) :status: 200/)
  t.match(result.stdout, /recv \(stream_id=15\) :status: 200/)
  t.equal(result.stdout.match(/<h1>news<\/h1> HTTP\/2\.0/g)?.length, 2)
})

test('H5: undici 7 H2CClient (prior knowledge) with several concurrent streams', async (t) => {
  const url = new URL(await newsApp(t))
  const undici = new H2CClient(url.origin)
  t.teardown(() => undici.close())
  const responses = await Promise.all([1, 2, 3].map(async () => await undici.request({ path: url.pathname, method: 'GET' })))
  for (const response of responses) {
    t.equal(response.statusCode, 200)
    t.equal(await response.body.text(), '<h1>news</h1> HTTP/2.0\n')
  }
})
