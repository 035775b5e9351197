import type { Socket } from 'node:net'
import { test } from 'tap'
import { build, client, listen, upgradeRequest } from './helpers'

test('S1: without h2c() an h2c upgrade is served as HTTP/1.1 and a prior-knowledge preface is not HTTP/2', async (t) => {
  const app = await build(t)
  app.get('/news.html', { upgrade: { protocols: { echo: (socket: Socket) => { socket.end() } } } }, async () => 'news over HTTP/1.1')
  const port = await listen(app)

  const upgrade = client(t, port)
  upgrade.write(upgradeRequest('/news.html', 'h2c', ['HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA']).replace('Connection: upgrade', 'Connection: Upgrade, HTTP2-Settings'))
  t.match(await upgrade.until('news over HTTP/1.1'), /^HTTP\/1\.1 200 OK\r\n[^]*news over HTTP\/1\.1$/)
  t.notMatch(upgrade.text, /101/)

  const prior = client(t, port)
  prior.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
  await prior.closed
  t.match(prior.text, /^HTTP\/1\.1 400 Bad Request\r\n/, 'Node\'s HTTP/1.1 parser refuses it: no HTTP/2 SETTINGS comes back')
})
