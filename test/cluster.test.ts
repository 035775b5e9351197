import t, { type Test } from 'tap'
import { type App, joined, type Member, member, metrics, redisServer, startApp } from './cluster-helpers'
import { hasTool } from './h2c-helpers'
import { committedConfig, freePort, haproxy, nginx } from './proxy-helpers'

// examples/cluster/app.mjs past one process: two processes behind real HAProxy and nginx (with
// examples/deploy/'s configurations), a real redis-server between them, one client on each.

// Processes, proxies and a Redis restart take longer than tap's default on a slow machine.
t.setTimeout(180000)

/** Clients through the proxy until there is one on each process (round robin); the extra ones are closed. */
async function onEachProcess (t: Test, port: number, apps: App[]): Promise<Member[]> {
  const found = new Map<number, Member>()
  for (let i = 0; i < 8 && found.size < apps.length; i++) {
    const m = member(t, `client ${i}`, port)
    const pid = await joined(m)
    if (found.has(pid)) m.ws.close()
    else found.set(pid, m)
  }
  if (found.size < apps.length) throw new Error('the proxy did not spread clients over both processes')
  return apps.map((app) => found.get(app.pid) as Member)
}

/**
 * Every member sends `count` messages and an end marker, all at once; each must get every
 * member's messages exactly once and in the order sent, and nothing else.
 */
async function exchange (t: Test, members: Member[], count: number, label: string): Promise<void> {
  const from = members.map((m) => m.received.length)
  const sent = (sender: Member): string[] => [...Array.from({ length: count }, (_, i) => `${label} ${sender.name} ${i}`), `${label} ${sender.name} end`]
  for (let i = 0; i <= count; i++) for (const m of members) m.ws.send(sent(m)[i])
  // Per sender, the end marker comes last: once each member has every marker, all has arrived.
  await Promise.all(members.map((m, i) => m.until((received) => members.every((sender) => received.includes(`${label} ${sender.name} end`, from[i])))))
  members.forEach((m, i) => {
    const got = m.received.slice(from[i])
    for (const sender of members) {
      t.same(got.filter((text) => text.startsWith(`${label} ${sender.name} `)), sent(sender), `${m.name} got each of ${sender.name}'s ${count + 1} messages once, in order`)
    }
    t.equal(got.length, members.length * (count + 1), `${m.name} got nothing else`)
  })
}

for (const proxy of ['haproxy', 'nginx'] as const) {
  t.test(`examples/cluster/app.mjs: two processes behind ${proxy}, broadcast through Redis`, async (t) => {
    if (!hasTool(t, 'redis-server') || !hasTool(t, proxy)) return
    const redisPort = await freePort()
    const deployment = t // what must outlive the subtests
    let redis = await redisServer(deployment, redisPort)
    const apps = await Promise.all([startApp(t, redisPort), startApp(t, redisPort)])
    const backends: Array<[string, string]> = [['127.0.0.1:3001', `127.0.0.1:${apps[0].port}`], ['127.0.0.1:3002', `127.0.0.1:${apps[1].port}`]]
    const port = proxy === 'nginx'
      ? await nginx(t, (port) => committedConfig('nginx.conf', [['listen 8080;', `listen 127.0.0.1:${port};`], ...backends]))
      : await haproxy(t, (port) => committedConfig('haproxy.cfg', [['bind :8080', `bind 127.0.0.1:${port}`], ...backends]))
    const [a, b] = await onEachProcess(t, port, apps)
    a.name = 'a'
    b.name = 'b'

    await t.test('cross-delivery: each message reaches the clients of both processes exactly once, in order per sender', async (t) => {
      await exchange(t, [a, b], 50, 'first')
      const counts = await Promise.all(apps.map(metrics))
      t.same(counts.map((c) => [c.published, c.lost, c.missed]), [[51, 0, 0], [51, 0, 0]], 'each process published its client\'s 51, lost and missed none')
    })

    await t.test('a Redis restart: a message sent while it is down is counted lost, and delivery resumes once it is back', async (t) => {
      const gone = apps.map((app) => app.next(/"role":"subscriber".*"msg":"redis connection lost, reconnecting"/))
      await redis.stop()
      await Promise.all(gone)
      const lost = apps[0].next(/"msg":"message lost: Redis did not take it"/)
      a.ws.send('during the outage')
      await lost
      t.match(await metrics(apps[0]), { lost: 1, redis: { publisher: false, subscriber: false } }, 'counted lost on the process that took it')

      const back = apps.flatMap((app) => ['publisher', 'subscriber'].map((role) => app.next(new RegExp(`"role":"${role}".*"msg":"redis ready"`))))
      redis = await redisServer(deployment, redisPort)
      await Promise.all(back)
      await exchange(t, [a, b], 20, 'second')
      t.notOk([...a.received, ...b.received].includes('during the outage'), 'the lost message never arrived')
      const counts = await Promise.all(apps.map(metrics))
      t.same(counts.map((c) => [c.lost, c.missed]), [[1, 1], [0, 1]], 'both processes saw the gap it left in the sequence of the process that lost it')
    })

    await t.test('SIGTERM on one process: its client gets 1001, reconnects through the proxy to the other and keeps receiving', async (t) => {
      const [leaving, staying] = apps
      leaving.child.kill('SIGTERM')
      t.equal(await a.closed, 1001, 'a\'s WebSocket closed with 1001 (Going Away)')
      const again = member(t, 'a again', port)
      t.equal(await joined(again), staying.pid, 'a reconnected through the proxy and got the other process')
      await exchange(t, [again, b], 20, 'third')
      t.equal(await leaving.exited, 0, 'the drained process exits by itself')

      // The rolling restart goes on: a new process on the port of the one that left joins the broadcast.
      const replaced = await startApp(t, redisPort, leaving.port)
      const c = member(t, 'c', replaced.port)
      t.equal(await joined(c), replaced.pid, 'a client of the new process')
      await exchange(t, [c, again, b], 10, 'fourth')
    })
  })
}

t.test('examples/cluster/short.mjs, the 15 lines of docs/scaling.md: two processes, one client on each', async (t) => {
  if (!hasTool(t, 'redis-server')) return
  const redisPort = await freePort()
  await redisServer(t, redisPort)
  const apps = await Promise.all([startApp(t, redisPort, 0, 'short.mjs'), startApp(t, redisPort, 0, 'short.mjs')])
  const members = apps.map((app, i) => member(t, ['a', 'b'][i], app.port))
  // short.mjs sends no welcome: a member is ready once open.
  await Promise.all(members.map(async (m) => await new Promise((resolve) => m.ws.once('open', resolve))))
  await exchange(t, members, 20, 'short')
})
