import type { Socket } from 'node:net'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, listen } from './helpers'
import { buildH2c, hasTool, run } from './h2c-helpers'

const version = async (request: { raw: { httpVersion: string } }): Promise<string> => `HTTP/${request.raw.httpVersion}\n`

async function app (t: Parameters<typeof buildH2c>[0], allRoutes: boolean): Promise<string> {
  const fastify = await buildH2c(t, { allRoutes })
  fastify.get('/plain', version)
  fastify.get('/echo', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } } } }, version)
  return `http://127.0.0.1:${await listen(fastify)}`
}

test('S1: by default curl --http2 to a route without h2c: true stays on HTTP/1.1', async (t) => {
  if (!hasTool(t, 'curl')) return
  const base = await app(t, false)
  const result = await run('curl', ['-sS', '--http2', '-D', '-', `${base}/plain`])
  t.match(result.stdout, /^HTTP\/1\.1 200 OK\r\n[^]*HTTP\/1\.1\n$/)
})

test('H3: h2c({ allRoutes: true }) upgrades curl --http2 on every route: without upgrade, and after the protocols a route names', async (t) => {
  if (!hasTool(t, 'curl')) return
  const base = await app(t, true)
  for (const path of ['/plain', '/echo']) {
    const result = await run('curl', ['-sS', '--http2', '-D', '-', `${base}${path}`])
    t.match(result.stdout, /^HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\nHTTP\/2 200 \r\n[^]*HTTP\/2\.0\n$/, path)
  }
  const missing = await run('curl', ['-sS', '--http2', '-D', '-', `${base}/nowhere`])
  t.match(missing.stdout, /^HTTP\/1\.1 404 Not Found\r\n/, 'no route, no switch')
})

test('H3: nghttp -u succeeds on a route without upgrade once allRoutes is on', async (t) => {
  if (!hasTool(t, 'nghttp')) return
  const base = await app(t, true)
  const result = await run('nghttp', ['-u', '-v', `${base}/plain`])
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, /HTTP Upgrade response\n/)
  t.match(result.stdout, /recv \(stream_id=1\) :status: 200/)
})

test('allRoutes must be a boolean, and only a continuation adapter may reach every route', async (t) => {
  t.throws(() => fastifyUpgrade.h2c({ allRoutes: 1 as unknown as boolean }), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /h2c\(\) allRoutes must be a boolean, got 1/ })
  const handOff = { ...fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] }), route: { allRoutes: true } }
  await t.rejects(build(t, { protocols: [handOff] }), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /adapter "echo" cannot reach every route/ })
})
