import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { test } from 'tap'
import { WebSocket as WsClient } from 'ws'

// Issue 23: a broadcast at 1,000 messages/s to 2,000 clients, of which 100 never read, with
// websocket()'s default policy (close with 1013). The server (test/fixtures/broadcast-server.js,
// on the built package) runs in a process of its own, so that its memory figures are its own.
// The limit is a quarter of the default: every byte a reader gets costs time on a busy 2-core
// machine, and the broadcast has to reach beyond the limit (test/websocket-slow-clients.test.ts
// has the default itself).

const CLIENTS = 2000
const SILENT = 100
const RATE = 1000
const LIMIT = 256 * 1024
// 512 KiB per client, twice the limit, after what the kernel took from the silent ones.
const COUNT = 64
const SIZE = 8192
const MiB = 1024 * 1024

interface Slow { id: number, policy: number | string, bufferedAmount: number, limit: number }
interface Memory { rss: number, waiting: number }
interface Done { seconds: number, kernel: number[], before: Memory, peak: Memory, end: Memory, counts: { skipped: number, closed: number } }

/** Resolves with the `key` part of the next IPC message from `child` that has one. */
async function next<T> (child: ChildProcess, key: string): Promise<T> {
  return await new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, T>): void => {
      if (!(key in message)) return
      child.off('message', onMessage)
      resolve(message[key])
    }
    child.on('message', onMessage)
    child.once('exit', (code) => { reject(new Error(`the server exited (${code}) before sending ${key}`)) })
  })
}

interface Client {
  ws: WsClient
  /** Broadcast messages in the order they came, by number. */
  numbers: number[]
  /** Resolves once the whole broadcast came, or the connection closed first. */
  complete: Promise<unknown>
  closed: Promise<[number, string]>
}

function connect (port: number, id: number, silent: boolean): Client {
  const ws = new WsClient(`ws://127.0.0.1:${port}/feed?id=${id}${silent ? '&silent' : ''}`)
  const numbers: number[] = []
  let all: () => void = () => {}
  const closed = once(ws, 'close').then(([code, reason]) => [code, String(reason)] as [number, string])
  const complete = Promise.race([new Promise<void>((resolve) => { all = resolve }), closed])
  // Text: the broadcast, its number first; the silent ones get the server's fill (binary) before it.
  ws.on('message', (data: Buffer, binary) => {
    if (binary) return
    if (numbers.push(parseInt(data.toString('latin1', 0, 8), 10)) === COUNT) all()
  })
  return { ws, numbers, complete, closed }
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`

test('S8: a broadcast to 2,000 clients, 100 of which never read: memory stays bounded, readers get everything, the silent are closed with 1013', async (t) => {
  // About 1 GB through loopback to the readers: a few seconds alone, 20 on a busy 2-core machine.
  // The server runs the build, not lib/: its coverage (mapped from dist/, shaped otherwise than the
  // tests' own) is not collected, as for the line-independent tests' processes (test/coverage-map.js).
  const child = fork(join(__dirname, 'fixtures', 'broadcast-server.js'), { env: { ...process.env, MAX_BUFFERED_AMOUNT: String(LIMIT), _TAPJS_PROCESSINFO_COVERAGE_: '0' }, execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    child.kill('SIGKILL')
    await exited
  })
  const { port, rss: idle } = await next<{ port: number, rss: number }>(child, 'listening')
  const started = performance.now()

  // The silent clients stop reading once open and ask for the fill; all of them are filled first.
  let filled = 0
  const allFilled = new Promise<void>((resolve) => {
    child.on('message', ({ filled: id }: { filled?: number }) => {
      if (id !== undefined && ++filled === SILENT) resolve()
    })
  })
  const clients: Client[] = []
  t.teardown(() => { for (const { ws } of clients) ws.terminate() })
  // In batches, within the listen backlog.
  for (let from = 0; from < CLIENTS; from += 200) {
    const batch = Array.from({ length: 200 }, (_, i) => connect(port, from + i, from + i < SILENT))
    clients.push(...batch)
    await Promise.all(batch.map(async ({ ws }) => { await once(ws, 'open') }))
  }
  for (const { ws } of clients.slice(0, SILENT)) {
    ws.pause()
    ws.send('fill')
  }
  await allFilled
  const connected = performance.now()

  // Each silent client starts reading again once the server has acted on it: what it then reads
  // is what was sent to it before, then the close frame (well within ws's 30 s close timeout).
  const slow: Slow[] = []
  child.on('message', ({ slow: one }: { slow?: Slow }) => {
    if (one === undefined) return
    slow.push(one)
    clients[one.id].ws.resume()
  })
  child.send({ broadcast: { count: COUNT, size: SIZE, rate: RATE } })
  const done = await next<Done>(child, 'done')
  const readers = clients.slice(SILENT)
  await Promise.all(readers.map(async ({ complete }) => await complete))
  // Every message the server published came before its `done`: the clients it acted on close.
  const silentClosed = await Promise.all(slow.map(async ({ id }) => await clients[id].closed))
  t.comment(`connected and filled in ${((connected - started) / 1000).toFixed(1)} s, broadcast received and silent closed ${((performance.now() - connected) / 1000).toFixed(1)} s later`)

  const expected = Array.from({ length: COUNT }, (_, i) => i)
  t.equal(readers.filter(({ numbers }) => numbers.join() === expected.join()).length, CLIENTS - SILENT, 'every reader got every message, in order')
  t.same(done.counts, { skipped: 0, closed: SILENT }, 'the adapter counted 100 closes')
  t.same(slow.map(({ id }) => id).sort((a, b) => a - b), Array.from({ length: SILENT }, (_, i) => i), 'one diagnostics message per silent client, none for a reader')
  t.ok(slow.every(({ policy, limit, bufferedAmount }) => policy === 1013 && limit === LIMIT && bufferedAmount > LIMIT && bufferedAmount <= LIMIT + SIZE + 10),
    'each acted on with more than the limit and at most one message more waiting')
  t.ok(silentClosed.length === SILENT && silentClosed.every(([code, reason]) => code === 1013 && reason === 'client too slow'), 'every silent client got 1013')
  const cuts = clients.slice(0, SILENT).map(({ numbers }) => numbers.length)
  t.ok(clients.slice(0, SILENT).every(({ numbers }) => numbers.length < COUNT && numbers.join() === expected.slice(0, numbers.length).join()),
    'a silent client got the messages before its close, in order, and none after')

  const bound = SILENT * (LIMIT + SIZE + 16 * 1024)
  t.ok(done.peak.waiting <= bound, `at most ${mib(done.peak.waiting)} waited to be sent, all clients together (bound ${mib(bound)})`)
  const grew = done.peak.rss - done.before.rss
  t.ok(grew <= bound + 96 * MiB, `the server's RSS grew by ${mib(grew)} at most`)
  t.comment(`${CLIENTS} clients (${SILENT} silent), ${COUNT} messages of ${SIZE} B offered at ${RATE}/s: sent in ${done.seconds.toFixed(2)} s (${(COUNT / done.seconds).toFixed(0)} messages/s, ${((COUNT * CLIENTS) / done.seconds / 1000).toFixed(0)}k sends/s)`)
  t.comment(`server RSS: ${mib(idle)} idle, ${mib(done.before.rss)} with the clients connected, ${mib(done.peak.rss)} at most during the broadcast (+${mib(grew)}), ${mib(done.end.rss)} at its end`)
  t.comment(`bytes waiting to be sent (bufferedAmount, all clients): ${mib(done.before.waiting)} before, ${mib(done.peak.waiting)} at most, ${mib(done.end.waiting)} at the end; bound ${SILENT} × (limit + one message + fill) = ${mib(bound)}`)
  t.comment(`kernel share of each silent connection, outside the process: ${mib(Math.min(...done.kernel))} to ${mib(Math.max(...done.kernel))}`)
  t.comment(`silent clients closed after ${Math.min(...cuts)} to ${Math.max(...cuts)} of ${COUNT} messages`)
})
