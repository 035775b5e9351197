import { once } from 'node:events'
import { connect } from 'node:http2'
import type { Socket } from 'node:net'
import { test } from 'tap'
import { PREFACE, SETTINGS, frame } from '../lib/adapters/h2c/frames'
import { client, listen, within, type RawClient } from './helpers'
import { buildH2c, framesUntil } from './h2c-helpers'

const SESSION_TIMEOUT = 200
// What the README promises: GOAWAY once idle for sessionTimeout, the socket gone one sessionTimeout later.
// The deadline is that bound with room for a loaded machine.
const DEADLINE = 2 * SESSION_TIMEOUT + 5000

async function closedInTime (closed: Promise<unknown>): Promise<boolean> {
  return await within(closed, DEADLINE)
}

test('S5: a session whose stream stalls gets GOAWAY after sessionTimeout, and is closed one sessionTimeout later', async (t) => {
  const app = await buildH2c(t, { sessionTimeout: SESSION_TIMEOUT })
  app.post('/upload', async (request) => request.body)
  const port = await listen(app)
  const session = connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  // A POST whose body never ends: the stream stays open, and nothing moves.
  const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-type': 'text/plain' })
  stream.on('error', () => {})
  stream.write('partial')
  const [code] = await once(session, 'goaway') as [number]
  t.equal(code, 0, 'GOAWAY with NO_ERROR once idle')
  await once(session, 'close')
  t.pass('the server closed the connection with the stream still open')
})

for (const upgrade of [false, true]) {
  test(`a second preface after SETTINGS (${upgrade ? 'upgraded' : 'prior knowledge'}): the server closes the connection once the client half-closes`, async (t) => {
    const app = await buildH2c(t, { sessionTimeout: SESSION_TIMEOUT })
    app.get('/', { upgrade: { protocols: { h2c: true } } }, async () => 'ok')
    const c = client(t, await listen(app))
    let from = 0
    if (upgrade) {
      c.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: HTTP/2\r\n\r\n')
      from = (await c.until('\r\n\r\n')).indexOf('\r\n\r\n') + 4
    }
    c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
    // The server's SETTINGS: the session is up before the second preface.
    await framesUntil(c, from, (frames) => frames.some((f) => f.type === SETTINGS))
    c.write(PREFACE)
    c.socket.end()
    // Node 22 and later close at once (a protocol error); Node 20's session stops reading and
    // never sees the FIN: the idle bound closes it.
    t.ok(await closedInTime(c.closed), `closed within ${DEADLINE} ms`)
  })
}

const GOAWAY = frame(0x7, 0, 0, Buffer.alloc(8))
const PING = frame(0x6, 0, 0, Buffer.alloc(8))

/** A client that sends GOAWAY, and keeps its side of the connection open once the server ended its own. */
async function goawayAndHold (t: Parameters<typeof buildH2c>[0], sessionTimeout: number): Promise<{ c: RawClient, server: Socket, serverClosed: Promise<unknown>, port: number }> {
  const app = await buildH2c(t, { sessionTimeout })
  const port = await listen(app)
  const accepted = once(app.server, 'connection') as Promise<[Socket]>
  const c = client(t, port)
  c.socket.allowHalfOpen = true
  const serverEnded = once(c.socket, 'end')
  c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0)), GOAWAY]))
  const [server] = await accepted
  const serverClosed = once(server, 'close')
  await serverEnded
  return { c, server, serverClosed, port }
}

test('S5: a client that keeps its side open after GOAWAY: the server destroys its socket sessionTimeout after its FIN', async (t) => {
  const { serverClosed } = await goawayAndHold(t, SESSION_TIMEOUT)
  t.ok(await closedInTime(serverClosed), `closed within ${DEADLINE} ms`)
})

test('sessionTimeout: 0 leaves a closed connection to the client: what it sends after the server\'s FIN is read, not reset', async (t) => {
  const { c, server, serverClosed, port } = await goawayAndHold(t, 0)
  // A request on another connection: event-loop turns enough for any timer armed at the FIN to fire.
  const response = await fetch(`http://127.0.0.1:${port}/missing`)
  await response.text()
  t.equal(server.destroyed, false, 'the server still holds the connection')
  let error: NodeJS.ErrnoException | undefined
  c.socket.on('error', (err) => { error = err })
  c.write(PING)
  c.socket.end()
  await Promise.all([c.closed, serverClosed])
  t.equal(error, undefined, 'no reset')
})
