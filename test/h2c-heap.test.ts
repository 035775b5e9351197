import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { connect, type Http2ServerRequest, type ServerHttp2Session } from 'node:http2'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import Fastify from 'fastify'
import t, { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { PREFACE, SETTINGS, frame } from '../lib/adapters/h2c/frames'
import { RawClient, listen } from './helpers'
import { buildH2c, parseFrames, streamData } from './h2c-helpers'

// tap runs each file in a process of its own: the flag is set for this one only.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** The README's bound (h2c, "Memory"): heap kept per closed connection, measured after a full GC. */
const BOUND = 1536
const WARM_UP = 300
const CONNECTIONS = 1500
// 5400 connections one after another and full GCs: about 9 s alone, over 30 s (tap's default) on a loaded 2-core machine.
t.setTimeout(120000)

function heapAfterGc (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

async function priorKnowledge (address: string): Promise<void> {
  const session = connect(address)
  const stream = session.request({ ':path': '/' })
  stream.resume()
  await once(stream, 'end')
  await new Promise<void>((resolve) => { session.close(resolve) })
}

async function upgraded (port: number): Promise<void> {
  const c = new RawClient(port)
  c.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n')
  const head = (await c.until('\r\n\r\n')).indexOf('\r\n\r\n') + 4
  c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  while (!streamData(parseFrames(c.received.subarray(head)).frames, 1).ended) await once(c.socket, 'data')
  c.socket.end()
  await c.closed
}

/** Heap bytes kept per connection over `n` connections opened and closed one after another, after a warm-up. */
async function perConnection (open: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) await open()
  const before = heapAfterGc()
  for (let i = 0; i < CONNECTIONS; i++) await open()
  return (heapAfterGc() - before) / CONNECTIONS
}

test('S5: closed h2c connections leave nothing on the heap (sessions are not kept until sessionTimeout)', async (t) => {
  const app = await buildH2c(t)
  const sessions: Array<WeakRef<ServerHttp2Session>> = []
  app.get('/', { upgrade: { protocols: { h2c: true } } }, async (request) => {
    const { raw } = request
    if (raw.httpVersionMajor === 2) sessions.push(new WeakRef((raw as unknown as Http2ServerRequest).stream.session as ServerHttp2Session))
    return 'ok'
  })
  const port = await listen(app)

  const pk = await perConnection(async () => { await priorKnowledge(`http://127.0.0.1:${port}`) })
  t.ok(pk < BOUND, `prior knowledge: ${pk.toFixed(0)} B per connection, bound ${BOUND}`)
  const up = await perConnection(async () => { await upgraded(port) })
  t.ok(up < BOUND, `upgraded: ${up.toFixed(0)} B per connection, bound ${BOUND}`)
  heapAfterGc()
  t.equal(sessions.length, 2 * (WARM_UP + CONNECTIONS), 'every request was served over HTTP/2')
  t.equal(sessions.filter((session) => session.deref() !== undefined).length, 0, 'no closed session is kept')
})

test('on Fastify\'s own http2: true server, closed sessions leave nothing on the heap either', async (t) => {
  // Fastify gives each session an idle timer (http2SessionTimeout), which Node leaves armed when
  // the session closes: without the plugin, about 2.4 KB per connection stay for 72 s.
  const app = Fastify({ http2: true })
  t.teardown(() => app.close())
  await app.register(fastifyUpgrade, { protocols: [fastifyUpgrade.websocket()] })
  app.get('/', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const kept = await perConnection(async () => { await priorKnowledge(`http://127.0.0.1:${port}`) })
  t.ok(kept < BOUND, `${kept.toFixed(0)} B per connection, bound ${BOUND}`)
})
