import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test, type Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import { client, type RawClient, upgradeRequest } from './helpers'
import { hasTool } from './h2c-helpers'
import { committedConfig, haproxy, nginx, tempDir } from './proxy-helpers'
import { certificate } from './tls-helpers'

// examples/deploy/ as an operator runs it: two processes of app.mjs (this package's build, imported
// by name) behind real nginx and HAProxy, each with its committed configuration, ports substituted.

const root = join(__dirname, '..')
const deploy = join(root, 'examples', 'deploy')
const TOKEN = 'deploy-test-token'
const WEBSOCKET = ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']
const CURL_H2C = ['Connection: upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQAAP__']

// The smuggling attempts of the issue, and websocket listed with HTTP/2 (in one field and in two),
// which a proxy that looks for websocket anywhere in Upgrade lets through.
const ATTEMPTS: Array<[string, string, string[]]> = [
  ['the seed HTTP/2', 'HTTP/2', []],
  ['curl-style h2c', 'h2c', CURL_H2C],
  ['RFC 2817 TLS/1.2', 'TLS/1.2', []],
  ['HTTP/2 listed with websocket', 'HTTP/2, websocket', WEBSOCKET],
  ['websocket and HTTP/2 in two fields', 'websocket', ['Upgrade: HTTP/2', ...WEBSOCKET]]
]

interface App {
  child: ChildProcess
  port: number
  pid: number
  output: () => string
  exited: Promise<number | null>
}

/** Starts examples/deploy/app.mjs on a free port; killed when the test ends. */
async function startApp (t: Test, env: Record<string, string>): Promise<App> {
  const child = spawn(process.execPath, [join(deploy, 'app.mjs')], { cwd: root, env: { ...process.env, ...env, PORT: '0' } })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGKILL')
    await exited
  })
  // Its ready signal is Fastify's log line.
  const port = await new Promise<number>((resolve, reject) => {
    const collect = (chunk: Buffer): void => {
      output += chunk.toString()
      const listening = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (listening !== null) resolve(Number(listening[1]))
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.once('exit', () => { reject(new Error(`app.mjs exited: ${output}`)) })
  })
  return { child, port, pid: child.pid as number, output: () => output, exited }
}

/** Two app processes, with TLS in place for direct clients, behind `proxy` with its examples/deploy config. */
async function deployment (t: Test, proxy: 'nginx' | 'haproxy'): Promise<{ port: number, apps: App[] }> {
  const dir = tempDir(t, 'deploy')
  const { key, cert } = certificate()
  writeFileSync(join(dir, 'key.pem'), key)
  writeFileSync(join(dir, 'cert.pem'), cert)
  const env = { TOKEN, TLS_KEY: join(dir, 'key.pem'), TLS_CERT: join(dir, 'cert.pem') }
  const apps = await Promise.all([startApp(t, env), startApp(t, env)])
  const backends: Array<[string, string]> = [['127.0.0.1:3001', `127.0.0.1:${apps[0].port}`], ['127.0.0.1:3002', `127.0.0.1:${apps[1].port}`]]
  const port = proxy === 'nginx'
    ? await nginx(t, (port) => committedConfig('nginx.conf', [['listen 8080;', `listen 127.0.0.1:${port};`], ...backends]))
    : await haproxy(t, (port) => committedConfig('haproxy.cfg', [['bind :8080', `bind 127.0.0.1:${port}`], ...backends]))
  return { port, apps }
}

/** A WebSocket to /chat through the proxy, ended when the test ends. */
function chat (t: Test, port: number, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): WsClient {
  const ws = new WsClient(`ws://127.0.0.1:${port}/chat`, { headers })
  ws.on('error', () => {})
  t.teardown(() => { ws.terminate() })
  return ws
}

/** The pid of the process that accepted the WebSocket, from its welcome. */
async function welcome (ws: WsClient): Promise<number> {
  const message = await new Promise<string>((resolve, reject) => {
    ws.once('message', (data) => { resolve(data.toString()) })
    ws.once('close', () => { reject(new Error('closed before its welcome')) })
  })
  return Number(/served by process (\d+)$/.exec(message)?.[1])
}

async function echo (ws: WsClient, text: string): Promise<string> {
  ws.send(text)
  return await new Promise((resolve) => ws.once('message', (data) => { resolve(data.toString()) }))
}

/** Sends `request` on the connection and answers what arrives after it, once that includes `end` (or the connection closed). */
async function exchange (c: RawClient, request: string | Buffer, end: string): Promise<string> {
  const from = c.received.length
  c.write(request)
  while (!c.received.subarray(from).toString('latin1').includes(end) && !c.socket.destroyed) {
    await new Promise<void>((resolve) => {
      const next = (): void => {
        c.socket.off('data', next).off('close', next)
        resolve()
      }
      c.socket.on('data', next).on('close', next)
    })
  }
  return c.received.subarray(from).toString('latin1')
}

/** What a smuggler sends once it believes the connection switched: the HTTP/2 preface, SETTINGS, and GET /admin on stream 3. */
function smuggledAdmin (): Buffer {
  const literal = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)])
  const block = Buffer.concat([literal(':method', 'GET'), literal(':scheme', 'http'), literal(':path', '/admin'), literal(':authority', '127.0.0.1')])
  const headers = Buffer.from([0, 0, block.length, 1, 0x5, 0, 0, 0, 3])
  return Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), headers, block])
}

for (const [proxy, file] of [['nginx', 'nginx.conf'], ['haproxy', 'haproxy.cfg']] as const) {
  test(`examples/deploy/${file}: ${proxy} in front of two app.mjs processes`, async (t) => {
    if (!hasTool(t, proxy)) return
    const { port, apps } = await deployment(t, proxy)

    await t.test('W4 S3: a WebSocket with the token switches and echoes; without it, the 401 arrives', async (t) => {
      const ws = chat(t, port)
      t.ok(apps.map((app) => app.pid).includes(await welcome(ws)), 'welcomed by one of the two processes')
      t.equal(await echo(ws, 'hello through the proxy'), 'hello through the proxy', 'echoed')

      const anonymous = chat(t, port, {})
      const { status, body } = await new Promise<{ status: number | undefined, body: string }>((resolve) => {
        anonymous.once('unexpected-response', (_request, response) => {
          let body = ''
          response.on('data', (chunk: Buffer) => { body += chunk.toString() })
          response.on('end', () => { resolve({ status: response.statusCode, body }) })
        })
      })
      t.equal(status, 401, 'no token: 401')
      t.equal(body, '{"error":"a bearer token is needed"}', 'with the hook\'s body')
    })

    await t.test('U9: the 426 of the required route arrives intact', async (t) => {
      const c = client(t, port)
      c.write(`GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`)
      const text = await c.until('websocket"}')
      t.match(text, /^HTTP\/1\.1 426 Upgrade Required\r\n/, 'status 426')
      t.match(text, /\r\nupgrade: websocket\r\n/i, 'Upgrade: websocket')
      t.match(text, /\r\n\r\n\{"statusCode":426,"code":"FST_ERR_UPGRADE_REQUIRED","error":"Upgrade Required","message":"This resource is only served after an upgrade to websocket"\}$/, 'the body')
    })

    await t.test('U10: an upgrade the route does not speak is served as HTTP/1.1, and the connection serves the next request', async (t) => {
      const c = client(t, port)
      t.match(await exchange(c, upgradeRequest('/plain', 'websocket', WEBSOCKET), 'plain over'),
        /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nplain over HTTP\/1\.1$/, 'declined: 200 over HTTP/1.1')
      t.match(await exchange(c, 'GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'plain over'),
        /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nplain over HTTP\/1\.1$/, 'the next request on the same connection')
    })

    await t.test('S6: h2c, the seed HTTP/2 and TLS upgrades through the proxy never get a 101 nor reach /admin', async (t) => {
      for (const [attempt, upgrade, extra] of ATTEMPTS) {
        // The control: the app switches these for a client that reaches it directly.
        const direct = client(t, apps[0].port)
        direct.write(upgradeRequest('/plain', upgrade, extra))
        t.match(await direct.until('\r\n\r\n'), /^HTTP\/1\.1 101 Switching Protocols\r\n/, `${attempt}: the app switches it for a direct client`)
        direct.close()

        const c = client(t, port)
        t.match(await exchange(c, upgradeRequest('/plain', upgrade, extra), 'plain over'),
          /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nplain over HTTP\/1\.1$/, `${attempt}: served over HTTP/1.1`)
        t.match(await exchange(c, 'GET /admin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '403 Forbidden'),
          /^HTTP\/1\.1 403 Forbidden\r\n/, `${attempt}: the next request still meets the proxy's rules`)
        c.write(smuggledAdmin())
        await c.closed
        t.notMatch(c.text, /\b101\b/, `${attempt}: no 101`)
        t.notMatch(c.text, /admin-area/, `${attempt}: HTTP/2 sent anyway does not reach /admin`)
      }
      // Nothing reached the plugin as an upgrade (it logs a warning when it declines one that shows
      // a proxy), and no request for /admin reached the apps.
      for (const app of apps) {
        t.notMatch(app.output(), /came through a proxy/, 'the proxy dropped every such Upgrade')
        t.notMatch(app.output(), /"url":"\/admin"/, 'no request for /admin reached the app')
      }
    })

    await t.test('S5: SIGTERM on one process closes its WebSockets with 1001 while the other keeps serving', async (t) => {
      const [leaving, staying] = apps
      // Round robin: new WebSockets land on both processes.
      const sockets = new Map<number, WsClient>()
      for (let i = 0; i < 8 && sockets.size < 2; i++) {
        const ws = chat(t, port)
        const pid = await welcome(ws)
        if (!sockets.has(pid)) sockets.set(pid, ws)
      }
      // And a client on the leaving process that never answers the close: it holds the drain open.
      let deaf = client(t, port)
      for (let i = 0; i < 8; i++) {
        const text = await exchange(deaf, upgradeRequest('/chat', 'websocket', [...WEBSOCKET, `Authorization: Bearer ${TOKEN}`]), 'served by process ')
        if (text.endsWith(`served by process ${leaving.pid}`)) break
        deaf.close()
        deaf = client(t, port)
      }
      const closing = sockets.get(leaving.pid)
      const open = sockets.get(staying.pid)
      if (closing === undefined || open === undefined || !deaf.text.endsWith(`${leaving.pid}`)) throw new Error('WebSockets did not reach both processes')
      const code = new Promise((resolve) => closing.once('close', resolve))

      leaving.child.kill('SIGTERM')
      t.equal(await code, 1001, 'its WebSocket closed with 1001 (Going Away)')
      // It drains until the deaf client leaves: it still accepts connections, and answers 503.
      // Clients reconnect at once; round robin sends some to it first, and the proxy retries them.
      const again = [1, 2, 3, 4].map(() => chat(t, port))
      t.same(await Promise.all(again.map(welcome)), [staying.pid, staying.pid, staying.pid, staying.pid], 'clients that reconnect get the other process')
      t.equal(await echo(open, 'still here'), 'still here', 'the WebSocket on the other process still works')
      await deaf.until('\x88\x02\x03\xe9')
      t.same([...deaf.received.subarray(-4)], [0x88, 2, 0x03, 0xe9], 'the client that does not answer got 1001 too')

      deaf.close()
      t.equal(await leaving.exited, 0, 'the drained process exits by itself')
      t.equal(await echo(again[0], 'after the exit'), 'after the exit', 'the other keeps working after it exits')
    })
  })
}
