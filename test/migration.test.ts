import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { test } from 'tap'

const run = promisify(execFile)

// Migration from @fastify/websocket: one app, whose handler, hooks and client code are shared,
// served by each plugin (examples/from-fastify-websocket.mjs, which loads this package's build).
test('the same chat app behaves the same under @fastify/websocket and fastify-upgrade', async (t) => {
  const both = await Promise.all(['@fastify/websocket', 'fastify-upgrade'].map(async (plugin) =>
    await run(process.execPath, ['examples/from-fastify-websocket.mjs', plugin], { env: { ...process.env, PORT: '0' }, timeout: 30000 })))
  const [before, after] = both.map(({ stdout }) => stdout)
  t.equal(after, [
    'alice got: welcome to the chat, alice',
    'bob got: welcome to the chat, bob',
    'broadcast: bob: hi all',
    'broadcast: bob: hi all',
    'plain HTTP: connect with a WebSocket client',
    'without the token: 401',
    ''
  ].join('\n'), '`this` is the instance, clients broadcast, hooks run, plain HTTP is served')
  t.equal(before, after, 'the same output from @fastify/websocket')
  t.same(both.map(({ stderr }) => stderr), ['', ''])
})
