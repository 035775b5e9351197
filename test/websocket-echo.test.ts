import { test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import { WebSocket as UndiciWebSocket } from 'undici'
import fastifyUpgrade from '../lib/index'
import { build, listen } from './helpers'

const { websocket } = fastifyUpgrade

test('W3: a ws client echoes through a route; plain GET still answers over HTTP', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  app.get('/chat', {
    upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data, binary) => { socket.send(data, { binary }) }) } } }
  }, async () => 'use a WebSocket client')
  const port = await listen(app)

  const client = new WsClient(`ws://127.0.0.1:${port}/chat`)
  t.teardown(() => client.terminate())
  const upgraded = new Promise<Record<string, string | string[] | undefined>>((resolve) => client.once('upgrade', (res) => resolve(res.headers)))
  const opened = new Promise((resolve) => client.once('open', resolve))
  const upgrade = await upgraded
  t.equal(upgrade.upgrade, 'websocket')
  t.equal(upgrade['sec-websocket-protocol'], undefined, 'no subprotocol: none was declared')
  t.equal(upgrade['sec-websocket-extensions'], undefined, 'no permessage-deflate unless enabled')
  await opened
  client.send('hello')
  const [data, binary] = await new Promise<[Buffer, boolean]>((resolve) => client.once('message', (d, b) => resolve([d as Buffer, b])))
  t.equal(data.toString(), 'hello')
  t.equal(binary, false)

  const plain = await fetch(`http://127.0.0.1:${port}/chat`)
  t.equal(await plain.text(), 'use a WebSocket client')
})

test('undici 7 WebSocket echoes binary messages', async (t) => {
  const app = await build(t, { protocols: [websocket()] })
  app.get('/chat', {
    upgrade: { protocols: { websocket: (socket) => { socket.on('message', (data, binary) => { socket.send(data, { binary }) }) } } }
  }, async () => 'plain')
  const port = await listen(app)

  const client = new UndiciWebSocket(`ws://127.0.0.1:${port}/chat`)
  client.binaryType = 'arraybuffer'
  t.teardown(() => client.close())
  await new Promise((resolve) => client.addEventListener('open', resolve, { once: true }))
  client.send(new Uint8Array([1, 2, 3]))
  const event = await new Promise<{ data: unknown }>((resolve) => client.addEventListener('message', (e) => resolve(e), { once: true }))
  t.same([...new Uint8Array(event.data as ArrayBuffer)], [1, 2, 3])
})
