import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { openWebSocket } from '../bench/h2-websocket-client'
import { build, client, listen, logs, type Line } from './helpers'
import { certificate } from './tls-helpers'
import { serve, transports } from './websocket-http2-helpers'

// Requests the plugin answers where Fastify sees none (`OPTIONS *`, an extended CONNECT it never
// routes): their lines are written as Fastify writes those of a request it answers with an error.

const OPTIONS_STAR = 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2\r\n\r\n'

/** Whether a logged `err` carries no frames of a stack. */
const stackless = (line: Line): boolean => !/\bat\b/.test(line.err?.stack ?? '')

test('OPTIONS * refused at maxConnections: 503 logged at error, as Fastify logs a 5xx reply, with no stack', async (t) => {
  const log = logs()
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())], maxConnections: 0 }, { logger: { stream: log.stream } })
  const c = client(t, await listen(app))
  c.write(OPTIONS_STAR)
  t.match(await c.until('}'), /^HTTP\/1\.1 503 /)
  const line = await log.next((line) => line.err !== undefined)
  t.match(line, { level: 50, res: { statusCode: 503 }, err: { code: 'FST_ERR_UPGRADE_TOO_MANY' }, msg: 'Too many upgraded connections, try again later' })
  t.ok(stackless(line))
})

test('OPTIONS * through a proxy is declined: 200 over HTTP/1.1, a debug line and a decline message with why', async (t) => {
  const messages: unknown[] = []
  const listener = (message: unknown): void => { messages.push(message) }
  subscribe('fastify-upgrade.decline', listener)
  t.teardown(() => { unsubscribe('fastify-upgrade.decline', listener) })
  const log = logs()
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] }, { logger: { level: 'debug', stream: log.stream } })
  const c = client(t, await listen(app))
  c.write(OPTIONS_STAR.replace('\r\n\r\n', '\r\nVia: 1.1 proxy\r\n\r\n'))
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n/)
  t.match(log.lines.find((line) => line.msg === 'upgrade declined'), { level: 20, protocols: ['TLS/1.2'], reason: 'declined' })
  t.match(messages, [{ protocols: ['TLS/1.2'], reason: 'declined', request: { url: '*' } }])
})

test('an extended CONNECT no route takes: 404 logged at info, 501 at error, as Fastify logs such replies', async (t) => {
  const log = logs()
  const { connect } = await serve(t, transports[2], (app) => {
    app.get('/chat', { upgrade: { protocols: { websocket: (socket) => { socket.close() } } } }, async () => 'plain')
  }, {}, {}, { logger: { stream: log.stream } })
  const session = await connect()
  t.equal((await openWebSocket(session, '/nowhere')).status, 404)
  t.equal((await openWebSocket(session, '/chat', { protocol: 'webtransport' })).status, 501)
  const errors = log.lines.filter((line) => line.err !== undefined)
  t.match(errors, [
    { level: 30, res: { statusCode: 404 }, err: { code: 'FST_ERR_UPGRADE_NO_ROUTE' }, msg: 'Route CONNECT:/nowhere not found' },
    { level: 50, res: { statusCode: 501 }, err: { code: 'FST_ERR_UPGRADE_CONNECT_PROTOCOL' } }
  ])
  t.equal(errors.length, 2)
  t.ok(errors.every(stackless))
})
