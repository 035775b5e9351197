import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest } from './helpers'

const { websocket } = fastifyUpgrade

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

async function serve (t: Test, options = {}) {
  const app = await build(t, { protocols: [websocket(options)] })
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.authorization === 'no') await reply.code(401).send('who are you?')
  })
  app.route({
    method: ['GET', 'POST'],
    url: '/chat',
    upgrade: { protocols: { websocket: (socket) => { socket.send('hi') } } },
    handler: async () => 'plain'
  })
  return listen(app)
}

/** What the server answers to a handshake with these extra header lines. */
async function answer (t: Test, port: number, extra: string[], method = 'GET', upgrade = 'websocket'): Promise<string> {
  const c = client(t, port)
  c.write(upgradeRequest('/chat', upgrade, extra, method))
  return c.until('\r\n\r\n')
}

test('W3: 101 with Sec-WebSocket-Accept, as RFC 6455 §1.3 computes it', async (t) => {
  const port = await serve(t)
  const head = await answer(t, port, [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'], 'GET', 'WebSocket')
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/)
  t.match(head, /\r\nUpgrade: websocket\r\n/i)
  t.match(head, /\r\nConnection: upgrade\r\n/i)
  t.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/)
  t.notMatch(head, /Sec-WebSocket-Protocol|Sec-WebSocket-Extensions/i)
})

test('W1: a handshake offering several protocols switches to websocket', async (t) => {
  const port = await serve(t)
  const head = await answer(t, port, [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'], 'GET', 'foo/2, websocket')
  t.match(head, /^HTTP\/1\.1 101 /)
  t.match(head, /\r\nUpgrade: websocket\r\n/i)
})

test('W1: malformed handshakes get 400 and no switch', async (t) => {
  const port = await serve(t)
  const cases: Array<[string, string[], string?]> = [
    ['no key', ['Sec-WebSocket-Version: 13']],
    ['a key of 15 bytes', ['Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA', 'Sec-WebSocket-Version: 13']],
    ['two keys', [`Sec-WebSocket-Key: ${KEY}`, `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13']],
    ['no version', [`Sec-WebSocket-Key: ${KEY}`]],
    ['a POST', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Content-Length: 0'], 'POST'],
    ['an empty subprotocol', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: a,,b']],
    ['a duplicated subprotocol', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: a, a']],
    ['a subprotocol that is no token', [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: a b']]
  ]
  for (const [name, extra, method] of cases) {
    const head = await answer(t, port, extra, method)
    t.match(head, /^HTTP\/1\.1 400 /, name)
    t.notMatch(head, /101 Switching/, `${name}: no switch`)
  }
})

test('W2: an unsupported version gets 426 with Sec-WebSocket-Version: 13', async (t) => {
  const port = await serve(t)
  for (const version of ['8', '14', '13, 13']) {
    const head = await answer(t, port, [`Sec-WebSocket-Key: ${KEY}`, `Sec-WebSocket-Version: ${version}`])
    t.match(head, /^HTTP\/1\.1 426 /, `version ${version}`)
    t.match(head, /\r\nsec-websocket-version: 13\r\n/i)
    t.notMatch(head, /101 Switching/)
  }
})

test('W4, S3: a hook that refuses answers before any switch', async (t) => {
  const port = await serve(t)
  const head = await answer(t, port, [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Authorization: no'])
  t.match(head, /^HTTP\/1\.1 401 /)
  const refused = new WsClient(`ws://127.0.0.1:${port}/chat`, { headers: { authorization: 'no' } })
  refused.on('error', () => {})
  const response = await new Promise<number | undefined>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode)))
  refused.terminate()
  t.equal(response, 401)
})

test('W4: origins not allowed get 403 before any switch; allowed ones and non-browsers pass', async (t) => {
  const port = await serve(t, { allowedOrigins: ['https://good.example'] })
  const base = [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13']
  const refused = await answer(t, port, [...base, 'Origin: https://evil.example'])
  t.match(refused, /^HTTP\/1\.1 403 /)
  t.notMatch(refused, /101 Switching/)
  t.match(await answer(t, port, [...base, 'Origin: https://good.example']), /^HTTP\/1\.1 101 /)
  t.match(await answer(t, port, base), /^HTTP\/1\.1 101 /, 'no Origin: not a browser')

  const byFunction = await serve(t, { allowedOrigins: (origin: string) => origin.endsWith('.good.example') })
  t.match(await answer(t, byFunction, [...base, 'Origin: https://a.good.example']), /^HTTP\/1\.1 101 /)
  t.match(await answer(t, byFunction, [...base, 'Origin: https://good.example.evil']), /^HTTP\/1\.1 403 /)
})

test('W1: with permessage-deflate on, an extensions offer that cannot be read gets 400 before any switch', async (t) => {
  const port = await serve(t, { perMessageDeflate: true })
  const head = await answer(t, port, [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99'])
  t.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/)
})

test('W3: with permessage-deflate on, a client that offers only other extensions gets none', async (t) => {
  const port = await serve(t, { perMessageDeflate: true })
  const head = await answer(t, port, [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Extensions: x-webkit-deflate-frame'])
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/)
  t.notMatch(head, /Sec-WebSocket-Extensions/i)
})

test('W3: permessage-deflate with ws\'s options is agreed to when the client offers it', async (t) => {
  const port = await serve(t, { perMessageDeflate: { threshold: 0 } })
  const head = await answer(t, port, [`Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Extensions: permessage-deflate'])
  t.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\nSec-WebSocket-Extensions: permessage-deflate\r\n/)
})
