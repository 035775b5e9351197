'use strict'

/**
 * The targets by figure (issue 24, Node 26): `of / to` must reach `min` (or stay under `max`), judged
 * by server CPU per operation where the figure measures it, else by the figure's own unit; `cpuOver`:
 * `of`'s server CPU per operation may exceed `to`'s by at most that many µs. `report` rows have none.
 * The rows issue 24 does not name keep the targets they had met before it.
 */
module.exports = {
  plain: [{ of: 'fastify-upgrade', to: 'fastify', min: 0.99 }],
  'upgrade-route': [{ of: 'fastify-upgrade', to: 'fastify', min: 0.99 }],
  declined: [
    { of: 'declined', to: 'plain', min: 0.9 },
    { of: 'declined, all on the upgrade path', to: 'plain', report: true }
  ],
  handshakes: [
    { of: 'fastify-upgrade', to: '@fastify/websocket', min: 1 },
    { of: 'fastify-upgrade', to: 'ws', cpuOver: 20 },
    { of: 'fastify-upgrade + h2c', to: 'fastify-upgrade', report: true }
  ],
  'echo-64': [{ of: 'fastify-upgrade', to: 'ws', min: 0.98 }],
  'echo-16384': [{ of: 'fastify-upgrade', to: 'ws', min: 0.97 }],
  'idle-rss': [{ of: 'fastify-upgrade', to: 'ws', max: 1.1 }],
  'idle-heap': [{ of: 'fastify-upgrade', to: 'ws', max: 1.15 }],
  'h2-prior': [{ of: 'fastify-upgrade', to: 'fastify http2', min: 0.97 }],
  'h2-upgraded': [{ of: 'fastify-upgrade (upgraded)', to: 'fastify http2 (prior knowledge)', min: 0.97 }],
  'ws-h2-echo': [{ of: 'HTTP/2 streams', to: 'HTTP/1.1 connections', report: true }],
  'ws-h2-handshakes': [{ of: 'one HTTP/2 connection', to: 'new HTTP/1.1 connections', report: true }],
  'h2c-connections': [
    { of: 'h2c upgrade', to: 'HTTP/1.1', report: true },
    { of: 'h2c upgrade', to: 'fastify http2 (prior knowledge)', report: true }
  ]
}
