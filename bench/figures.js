'use strict'

// The figures `npm run bench` measures, each a comparison of contenders under one kind of load,
// built from bench/run.js's measuring functions.
const h2ws = require('./h2-websocket')
const { connectionRate, h2load, h2requests, requests } = require('./load')
const ws = require('./ws-client')

module.exports = function figures ({ withServers, alternate, idleMemory, IDLE_SOCKETS, RSS_ROUNDS }) {
  const UPGRADE_HEADERS = { connection: 'upgrade', upgrade: 'example/1' }

  return [
    {
      id: 'plain',
      title: 'req/s, route without upgrade, plugin registered',
      unit: 'req/s',
      run: () => withServers(['upgrade', 'fastify'], (upgrade, fastify) => alternate([
        { name: 'fastify-upgrade', server: upgrade, measure: (s, { port }) => requests(port, '/plain', s) },
        { name: 'fastify', server: fastify, measure: (s, { port }) => requests(port, '/plain', s) }
      ]))
    },
    {
      id: 'upgrade-route',
      title: 'req/s, plain GET to a route that has upgrade',
      unit: 'req/s',
      run: () => withServers(['upgrade', 'fastify'], (upgrade, fastify) => alternate([
        { name: 'fastify-upgrade', server: upgrade, measure: (s, { port }) => requests(port, '/up', s) },
        { name: 'fastify', server: fastify, measure: (s, { port }) => requests(port, '/up', s) }
      ]))
    },
    {
      id: 'declined',
      title: 'req/s, declined upgrade requests (Upgrade: example/1, served as HTTP)',
      unit: 'req/s',
      run: () => withServers(['upgrade', 'upgrade-path'], (upgrade, path) => alternate([
        { name: 'declined', server: upgrade, measure: (s, { port }) => requests(port, '/up', s, UPGRADE_HEADERS) },
        { name: 'declined, all on the upgrade path', server: path, measure: (s, { port }) => requests(port, '/up', s, UPGRADE_HEADERS) },
        { name: 'plain', server: upgrade, measure: (s, { port }) => requests(port, '/up', s) }
      ]))
    },
    {
      id: 'handshakes',
      title: 'WebSocket handshakes/s, 50 concurrent',
      unit: 'handshakes/s',
      run: () => withServers(['upgrade-websocket', 'upgrade', 'fastify-websocket', 'ws'], (upgrade, both, fws, raw) => alternate([
        { name: 'fastify-upgrade', server: upgrade, measure: (s, { port }) => ws.handshakes(port, '/up', 50, s) },
        { name: 'fastify-upgrade + h2c', server: both, measure: (s, { port }) => ws.handshakes(port, '/up', 50, s) },
        { name: '@fastify/websocket', server: fws, measure: (s, { port }) => ws.handshakes(port, '/up', 50, s) },
        { name: 'ws', server: raw, measure: (s, { port }) => ws.handshakes(port, '/up', 50, s) }
      ]))
    },
    ...[64, 16384].map((size) => ({
      id: `echo-${size}`,
      title: `WebSocket echo messages/s, ${size === 64 ? '64 B' : '16 KiB'}, 20 connections`,
      unit: 'messages/s',
      run: () => withServers(['upgrade', 'ws'], (upgrade, raw) => alternate([
        { name: 'fastify-upgrade', server: upgrade, measure: (s, { port }) => ws.echo(port, '/up', size, 20, s) },
        { name: 'ws', server: raw, measure: (s, { port }) => ws.echo(port, '/up', size, 20, s) }
      ]))
    })),
    {
      id: 'ws-h2-echo',
      title: 'WebSocket echo messages/s, 64 B, 20 WebSockets: streams of one HTTP/2 connection (RFC 8441) vs HTTP/1.1 connections',
      unit: 'messages/s',
      run: () => withServers(['upgrade'], (upgrade) => alternate([
        { name: 'HTTP/2 streams', server: upgrade, measure: (s, { port }) => h2ws.echo(port, '/up', 64, 20, s) },
        { name: 'HTTP/1.1 connections', server: upgrade, measure: (s, { port }) => ws.echo(port, '/up', 64, 20, s) }
      ]))
    },
    {
      id: 'ws-h2-handshakes',
      title: 'WebSocket handshakes/s, 50 concurrent: streams of one HTTP/2 connection (RFC 8441) vs new HTTP/1.1 connections',
      unit: 'handshakes/s',
      run: () => withServers(['upgrade'], (upgrade) => alternate([
        { name: 'one HTTP/2 connection', server: upgrade, measure: (s, { port }) => h2ws.handshakes(port, '/up', 50, s) },
        { name: 'new HTTP/1.1 connections', server: upgrade, measure: (s, { port }) => ws.handshakes(port, '/up', 50, s) }
      ]))
    },
    {
      id: 'idle-rss',
      title: `server RSS per idle WebSocket, ${IDLE_SOCKETS} open`,
      unit: 'bytes',
      lowerIsBetter: true,
      // A fresh server per sample, measured after a full GC: nothing to warm up.
      run: () => alternate([
        { name: 'fastify-upgrade', measure: () => idleMemory('upgrade') },
        { name: 'ws', measure: () => idleMemory('ws') }
      ], RSS_ROUNDS, false)
    },
    {
      id: 'idle-heap',
      title: `server JS heap per idle WebSocket, ${IDLE_SOCKETS} open`,
      unit: 'bytes',
      lowerIsBetter: true,
      run: () => alternate([
        { name: 'fastify-upgrade', measure: () => idleMemory('upgrade', 'heapUsed') },
        { name: 'ws', measure: () => idleMemory('ws', 'heapUsed') }
      ], RSS_ROUNDS, false)
    },
    {
      id: 'h2-prior',
      title: 'HTTP/2 req/s over h2c prior knowledge (h2load, 10 connections × 10 streams)',
      unit: 'req/s',
      run: () => withServers(['upgrade', 'fastify-http2'], (upgrade, http2) => alternate([
        { name: 'fastify-upgrade', server: upgrade, measure: (s, { port }) => h2load(port, '/up', s) },
        { name: 'fastify http2', server: http2, measure: (s, { port }) => h2load(port, '/up', s) }
      ]))
    },
    {
      id: 'h2-upgraded',
      title: 'HTTP/2 req/s over upgraded h2c connections (own client, 10 connections × 10 streams)',
      unit: 'req/s',
      run: () => withServers(['upgrade', 'fastify-http2'], (upgrade, http2) => alternate([
        { name: 'fastify-upgrade (upgraded)', server: upgrade, measure: (s, { port }) => h2requests(port, '/up', true, s) },
        { name: 'fastify http2 (prior knowledge)', server: http2, measure: (s, { port }) => h2requests(port, '/up', false, s) }
      ]))
    },
    {
      id: 'h2c-connections',
      title: 'new connections/s, one request each: upgrade to h2c vs HTTP/1.1 and HTTP/2 prior knowledge',
      unit: 'connections/s',
      run: () => withServers(['upgrade', 'fastify-http2'], (upgrade, http2) => alternate([
        { name: 'h2c upgrade', server: upgrade, measure: (s, { port }) => connectionRate(port, '/up', 'upgrade', s) },
        { name: 'HTTP/1.1', server: upgrade, measure: (s, { port }) => connectionRate(port, '/up', 'http1', s) },
        { name: 'fastify http2 (prior knowledge)', server: http2, measure: (s, { port }) => connectionRate(port, '/up', 'prior', s) }
      ]))
    }
  ]
}
