import { execFile } from 'node:child_process'
import { test } from 'tap'

// The example imports 'fastify-upgrade' by name: the package's own build, as a user's program would.
test('examples/metrics.mjs does its round trip, prints Prometheus metrics and exits by itself', async (t) => {
  const { code, stdout } = await new Promise<{ code: number | null, stdout: string }>((resolve) => {
    const child = execFile(process.execPath, ['examples/metrics.mjs'], { timeout: 30000, env: { ...process.env, PORT: '0' } }, (_error, stdout) => {
      resolve({ code: child.exitCode, stdout })
    })
  })
  t.equal(code, 0)
  t.match(stdout, /^# HELP fastify_upgrade_connections /)
  t.match(stdout, /\nfastify_upgrade_connections\{adapter="websocket"\} 0\n/)
  t.match(stdout, /\nfastify_upgrade_upgrades_total\{adapter="websocket"\} 1\n/)
  t.match(stdout, /\nfastify_upgrade_refusals_total\{status="426"\} 1\n/)
  t.match(stdout, /\nfastify_upgrade_connection_seconds_count 1\n/)
  t.match(stdout, /\nfastify_upgrade_connection_bytes_total\{direction="in"\} [1-9]\d*\n/)
  t.match(stdout, /\nfastify_upgrade_websocket_slow_clients_total\{action="closed"\} 0\n/)
})
