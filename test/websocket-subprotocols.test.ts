import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import { WebSocket as UndiciWebSocket } from 'undici'
import fastifyUpgrade from '../lib/index'
import type { WebSocketOptions } from '../types/index'
import { build, listen } from './helpers'

const { websocket } = fastifyUpgrade

async function serve (t: Test, options: WebSocketOptions = {}): Promise<number> {
  const app = await build(t, { protocols: [websocket(options)] })
  const handler = (socket: import('ws').WebSocket) => { socket.send(socket.protocol) }
  app.get('/chat', { upgrade: { protocols: { websocket: { handler, protocols: ['chat.v2', 'chat.v1'] } } } }, async () => 'plain')
  app.get('/plain', { upgrade: { protocols: { websocket: handler } } }, async () => 'plain')
  return listen(app)
}

/** The Sec-WebSocket-Protocol of the 101 and the protocol the handler saw. */
async function connect (t: Test, port: number, path: string, offered: string[]): Promise<[string | undefined, string]> {
  const c = new WsClient(`ws://127.0.0.1:${port}${path}`, offered)
  t.teardown(() => c.terminate())
  const header = new Promise<string | undefined>((resolve) => c.once('upgrade', (res) => resolve(res.headers['sec-websocket-protocol'] as string | undefined)))
  const message = new Promise<string>((resolve) => c.once('message', (data) => resolve(String(data))))
  return [await header, await message]
}

test('W3: the first offered protocol the route declares, in the client order', async (t) => {
  const port = await serve(t)
  t.same(await connect(t, port, '/chat', ['other', 'chat.v1', 'chat.v2']), ['chat.v1', 'chat.v1'])
  t.same(await connect(t, port, '/chat', ['chat.v2']), ['chat.v2', 'chat.v2'])
})

test('W3: no subprotocol when the route declares none the client offered (ws alone echoes the first)', async (t) => {
  const port = await serve(t)
  const noMatch = new WsClient(`ws://127.0.0.1:${port}/plain`, ['chat.v1'])
  t.teardown(() => noMatch.terminate())
  // The ws client refuses a 101 without the protocol it asked for, as browsers do: the server sent none.
  const error = await new Promise<Error>((resolve) => noMatch.once('error', resolve))
  t.match(error.message, /Server sent no subprotocol/)
  t.same(await connect(t, port, '/plain', []), [undefined, ''])
})

test('W3: handleProtocols picks among the acceptable ones; anything else means none', async (t) => {
  const seen: string[][] = []
  const port = await serve(t, {
    handleProtocols: (acceptable) => {
      seen.push(acceptable)
      return acceptable.includes('chat.v2') ? 'chat.v2' : 'made-up'
    }
  })
  t.same(await connect(t, port, '/chat', ['chat.v1', 'chat.v2', 'x']), ['chat.v2', 'chat.v2'])
  t.same(seen, [['chat.v1', 'chat.v2']])
  const c = new WsClient(`ws://127.0.0.1:${port}/chat`, ['chat.v1'])
  t.teardown(() => c.terminate())
  t.match((await new Promise<Error>((resolve) => c.once('error', resolve))).message, /Server sent no subprotocol/)
})

test('W3: undici 7 WebSocket sees the selected protocol', async (t) => {
  const port = await serve(t)
  const c = new UndiciWebSocket(`ws://127.0.0.1:${port}/chat`, ['chat.v1'])
  t.teardown(() => c.close())
  const event = await new Promise<{ data: unknown }>((resolve) => c.addEventListener('message', (e) => resolve(e), { once: true }))
  t.equal(c.protocol, 'chat.v1')
  t.equal(event.data, 'chat.v1')
})

test('W3: permessage-deflate only when enabled and offered', async (t) => {
  const port = await serve(t, { perMessageDeflate: true })
  const c = new WsClient(`ws://127.0.0.1:${port}/plain`, { perMessageDeflate: true })
  t.teardown(() => c.terminate())
  const extensions = await new Promise((resolve) => c.once('upgrade', (res) => resolve(res.headers['sec-websocket-extensions'])))
  t.match(extensions, /^permessage-deflate/)
  const off = new WsClient(`ws://127.0.0.1:${port}/plain`, { perMessageDeflate: false })
  t.teardown(() => off.terminate())
  t.equal(await new Promise((resolve) => off.once('upgrade', (res) => resolve(res.headers['sec-websocket-extensions']))), undefined)
})
