import { test, type Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, client, listen, upgradeRequest } from './helpers'
import { hasTool } from './h2c-helpers'
import { haproxy as startHaproxy, nginx as startNginx } from './proxy-helpers'
import { certificate } from './tls-helpers'

const { h2c, tls, websocket } = fastifyUpgrade
const WEBSOCKET = ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']
const CURL_H2C = ['Connection: upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAAP__']

/** The operator's app: h2c and tls on /plain, a WebSocket, and an /admin the proxy denies. */
async function backend (t: Test): Promise<number> {
  const app = await build(t, { protocols: [websocket(), h2c(), tls(certificate())] })
  app.get('/plain', { upgrade: { protocols: { h2c: true, tls: true } } }, async (request) => `plain over ${request.raw.httpVersion}`)
  app.get('/admin', async () => ({ secret: 'admin-area' }))
  app.get('/ws', { upgrade: { protocols: { websocket: (socket) => { socket.close() } } } }, async () => 'no websocket')
  return await listen(app)
}

function nginx (t: Test, app: number, upgrade: string, connection: string): Promise<number> {
  return startNginx(t, (port) => `
map $http_upgrade $ws_upgrade { default ""; ~*^websocket$ websocket; }
map $ws_upgrade $ws_connection { default ""; websocket upgrade; }
server {
  listen 127.0.0.1:${port};
  location /admin { deny all; }
  location / {
    proxy_pass http://127.0.0.1:${app};
    proxy_http_version 1.1;
    proxy_set_header Upgrade ${upgrade};
    proxy_set_header Connection ${connection};
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  }
}
`)
}

function haproxy (t: Test, app: number, rules: string): Promise<number> {
  return startHaproxy(t, (port) => `
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend web
  bind 127.0.0.1:${port}
  http-request deny if { path_beg /admin }
${rules}
  default_backend app
backend app
  server app1 127.0.0.1:${app}
`)
}

/** The smuggling attempt: an upgrade to h2c or TLS through the proxy must come back as HTTP/1.1. */
async function noTunnel (t: Test, port: number, upgrade: string, extra: string[] = []): Promise<void> {
  const c = client(t, port)
  c.write(upgradeRequest('/plain', upgrade, extra))
  await c.until('plain over 1.1')
  t.match(c.text, /^HTTP\/1\.1 200 OK\r\n[^]*plain over 1\.1$/, `${upgrade}: answered over HTTP/1.1`)
  t.notMatch(c.text, /101/, `${upgrade}: no 101 reaches the client`)
}

async function webSocketSwitches (t: Test, port: number): Promise<void> {
  const c = client(t, port)
  c.write(upgradeRequest('/ws', 'websocket', WEBSOCKET))
  t.match(await c.until('\r\n\r\n'), /^HTTP\/1\.1 101 Switching Protocols\r\n/i, 'WebSocket goes through')
}

test('S6: through nginx with the usual WebSocket config, the seed upgrade and TLS are declined', async (t) => {
  if (!hasTool(t, 'nginx')) return
  const port = await nginx(t, await backend(t), '$http_upgrade', '"upgrade"')
  await noTunnel(t, port, 'HTTP/2')
  await noTunnel(t, port, 'h2c', CURL_H2C)
  await noTunnel(t, port, 'TLS/1.2')
  await webSocketSwitches(t, port)
})

test('S6: through nginx forwarding Upgrade only for websocket (the README config), no upgrade but WebSocket reaches the app', async (t) => {
  if (!hasTool(t, 'nginx')) return
  const port = await nginx(t, await backend(t), '$ws_upgrade', '$ws_connection')
  await noTunnel(t, port, 'HTTP/2')
  await noTunnel(t, port, 'TLS/1.2')
  await webSocketSwitches(t, port)
})

test('S6: through HAProxy (http mode, option forwardfor), curl-style h2c, the seed upgrade and TLS are declined', async (t) => {
  if (!hasTool(t, 'haproxy')) return
  const port = await haproxy(t, await backend(t), '  option forwardfor')
  await noTunnel(t, port, 'h2c', CURL_H2C)
  await noTunnel(t, port, 'HTTP/2')
  await noTunnel(t, port, 'TLS/1.2')
  await webSocketSwitches(t, port)
})

test('S6: through HAProxy dropping Upgrade but for websocket (the README config), no upgrade but WebSocket reaches the app', async (t) => {
  if (!hasTool(t, 'haproxy')) return
  const port = await haproxy(t, await backend(t), [
    '  http-request del-header Upgrade unless { req.fhdr_cnt(upgrade) eq 1 } { req.fhdr(upgrade) -i websocket }',
    '  http-request del-header HTTP2-Settings'
  ].join('\n'))
  await noTunnel(t, port, 'h2c', CURL_H2C)
  await noTunnel(t, port, 'HTTP/2')
  await webSocketSwitches(t, port)
})
