import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import { test, type Test } from 'tap'
import { ConnectionRegistry } from '../lib/registry/registry'

/** A connected pair of real sockets on 127.0.0.1. */
async function socketPair (t: Test): Promise<[Socket, Socket]> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address() as { port: number }
  const accepted = once(server, 'connection')
  const outer = connect(address.port, '127.0.0.1')
  const [inner] = await accepted as [Socket]
  t.teardown(() => {
    outer.destroy()
    inner.destroy()
    server.close()
  })
  return [inner, outer]
}

test('counts upgraded connections, and forgets a socket once it closes', async (t) => {
  const registry = new ConnectionRegistry(['echo'])
  const [a] = await socketPair(t)
  const [b] = await socketPair(t)
  registry.track(a)
  registry.track(b, () => {}, 'echo')
  t.equal(registry.upgraded, 1)
  registry.track(a, () => {}, 'echo')
  t.equal(registry.upgraded, 2, 'a pending connection that switches becomes upgraded')
  t.same(registry.connections(), { echo: 2 })
  registry.track(a)
  t.equal(registry.upgraded, 1, 'and back')
  b.destroy()
  await once(b, 'close')
  t.equal(registry.upgraded, 0)
  t.same(registry.connections(), { echo: 0 })
  registry.untrack(b)
  t.equal(b.listenerCount('close'), 0, 'no listener left behind')
})

test('a socket already destroyed is not tracked', async (t) => {
  const registry = new ConnectionRegistry()
  const [a] = await socketPair(t)
  a.destroy()
  registry.track(a, () => {}, 'echo')
  t.equal(registry.upgraded, 0)
  await registry.closeAll(10)
})

test('while closing, a connection tracked late is closed at once', async (t) => {
  const registry = new ConnectionRegistry()
  const [a, outerA] = await socketPair(t)
  const [b] = await socketPair(t)
  registry.track(a, () => { a.end() }, 'echo')
  outerA.on('end', () => { outerA.end() })
  const closing = registry.closeAll(1000)
  let closed = false
  registry.track(b, () => { closed = true; b.destroy() }, 'echo')
  t.ok(closed)
  await closing
  t.equal(registry.upgraded, 0)
})
