import type { FastifyServerOptions } from 'fastify'
import { test } from 'tap'
import { CONTINUATION, END_HEADERS, END_STREAM, HEADERS, headerBlock, requestFrames } from '../lib/adapters/h2c/frames'
import { client, listen } from './helpers'
import { buildH2c, hasTool, run } from './h2c-helpers'

async function echoApp (t: Parameters<typeof buildH2c>[0], maxBodySize?: number): Promise<string> {
  const app = await buildH2c(t, {}, maxBodySize === undefined ? {} : { maxBodySize })
  app.post('/echo', { upgrade: { protocols: { h2c: true } } }, async (request) => `${request.raw.httpVersion} ${request.body === undefined ? 0 : String(request.body).length}`)
  return `http://127.0.0.1:${await listen(app)}/echo`
}

// Stream 1's body would be DATA the client never sent, so never counted against the server's
// flow-control windows: a 60,000-byte upgrade body then a 60,000-byte POST on stream 3 overran the
// connection window (GOAWAY FLOW_CONTROL_ERROR). Such upgrades stay on HTTP/1.1, as in Apache and Jetty.
test('H4, U8: an h2c upgrade that carries a body is answered over HTTP/1.1, and the connection goes on', async (t) => {
  if (!hasTool(t, 'curl')) return
  const url = await echoApp(t, 1 << 20)
  const dir = t.testdir({ body: 'x'.repeat(60000) })
  const twice = await run('curl', ['-sS', '--http2', '-H', 'content-type: text/plain', '-H', 'Expect:', '--data-binary', `@${dir}/body`, '-w', ' %{http_version} %{num_connects}\n', url, url])
  t.equal(twice.stdout, '1.1 60000 1.1 1\n1.1 60000 1.1 0\n', 'both on one HTTP/1.1 connection')
  const chunked = await run('curl', ['-sS', '--http2', '-H', 'content-type: text/plain', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'abc', url])
  t.equal(chunked.stdout, '1.1 3')
  const bodiless = await run('curl', ['-sS', '--http2', '-X', 'POST', '-w', ' %{http_version}', url])
  t.equal(bodiless.stdout, '2.0 0 2', 'a POST without a body still switches')
})

test('U7: Expect: 100-continue with a body gets 100, then the answer over HTTP/1.1', async (t) => {
  if (!hasTool(t, 'curl')) return
  const url = await echoApp(t)
  const result = await run('curl', ['-sS', '--http2', '-D', '-', '-H', 'content-type: text/plain', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(2000), url])
  t.match(result.stdout, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n1\.1 2000$/)
  t.notMatch(result.stdout, /101/)
})

test('U11: stream 1 carries the request without connection-specific fields; a large header block continues in CONTINUATION', async (t) => {
  const app = await buildH2c(t, {}, {}, { http: { maxHeaderSize: 65536 } } as FastifyServerOptions)
  app.get('/headers', { upgrade: { protocols: { h2c: true } } }, async (request) => {
    const { headers } = request.raw
    return Object.keys(headers).filter((name) => name !== 'x-big').sort().join(',') + ` ${headers['x-big']?.length ?? 0} ${headers.te ?? '-'}`
  })
  const port = await listen(app)
  if (!hasTool(t, 'curl')) return
  const result = await run('curl', ['-sS', '--http2', '-H', 'Keep-Alive: timeout=5', '-H', 'X-Hop: 1', '-H', 'Connection: X-Hop', '-H', 'TE: trailers',
    '-H', `X-Big: ${'b'.repeat(20000)}`, '-w', ' %{http_version}', `http://127.0.0.1:${port}/headers`])
  t.equal(result.stdout, ':authority,:method,:path,:scheme,accept,te,user-agent 20000 trailers 2')
  const gzip = await run('curl', ['-sS', '--http2', '-H', 'TE: gzip', '-w', ' %{http_version}', `http://127.0.0.1:${port}/headers`])
  t.equal(gzip.stdout, ':authority,:method,:path,:scheme,accept,user-agent 0 - 2', 'TE other than trailers is dropped')

  const c = client(t, port)
  c.write('GET /headers HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n')
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/, 'HTTP/1.1 needs Host, as on Node\'s own path')
})

test('HEADERS and CONTINUATION frames stay within 16384 bytes, HPACK lengths over 126 use continuation bytes', async (t) => {
  const name = 'n'.repeat(200)
  const block = headerBlock([[name, 'v'.repeat(20000)]])
  t.same([...block.subarray(0, 3)], [0x00, 0x7f, 200 - 127], 'literal without indexing, 7-bit prefix integer')
  t.same([...block.subarray(203, 207)], [0x7f, (20000 - 127) % 128 + 128, Math.floor((20000 - 127) / 128) % 128 + 128, Math.floor((20000 - 127) / 16384)])
  const frames = requestFrames(1, [[name, 'v'.repeat(20000)]])
  t.same(frames.map((f) => [f.readUIntBE(0, 3), f[3], f[4]]), [
    [16384, HEADERS, END_STREAM],
    [block.length - 16384, CONTINUATION, END_HEADERS]
  ])
  t.same(requestFrames(3, [[':method', 'GET']]).map((f) => [f[3], f[4], f.readUInt32BE(5)]), [[HEADERS, END_HEADERS | END_STREAM, 3]])
})
