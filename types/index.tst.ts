import type { Socket } from 'node:net'
import Fastify, { type FastifyRequest } from 'fastify'
import { expect, test } from 'tstyche'
import fastifyUpgrade, { fastifyUpgrade as named, raw, type ProtocolAdapter, type UpgradeContext } from 'fastify-upgrade'
import fastifyUpgradeCjs = require('fastify-upgrade')

declare module 'fastify-upgrade' {
  interface UpgradeProtocols {
    echo: Socket
    resume: true
  }
}

const app = Fastify()

test('the plugin registers with its options', () => {
  expect(app.register(fastifyUpgrade, { protocols: [raw({ name: 'echo', tokens: ['echo/1'] })] })).type.not.toRaiseError()
  expect(app.register(fastifyUpgrade, {
    protocols: [],
    preference: 'server',
    maxBodySize: 1,
    handshakeTimeout: 1,
    maxConnections: 1,
    closeTimeout: 1
  })).type.not.toRaiseError()
  expect(app.register(fastifyUpgrade, { protocols: [], preference: 'random' })).type.toRaiseError()
  expect(app.register(fastifyUpgrade, { protocols: [], maxBodySize: '1' })).type.toRaiseError()
  expect(app.register(fastifyUpgrade, {})).type.toRaiseError()
  expect(app.register(named, { protocols: [] })).type.not.toRaiseError()
  expect(app.register(fastifyUpgradeCjs, { protocols: [] })).type.not.toRaiseError()
  expect(app.register(fastifyUpgradeCjs.default, { protocols: [] })).type.not.toRaiseError()
})

test('a hand-off handler gets the connection type of its protocol and the typed request', () => {
  app.get<{ Params: { room: string } }>('/rooms/:room', {
    upgrade: {
      protocols: {
        echo: (socket, request) => {
          expect(socket).type.toBe<Socket>()
          expect(request.params.room).type.toBe<string>()
          expect(request).type.toBeAssignableTo<FastifyRequest>()
        }
      }
    }
  }, async () => 'plain')
})

test('a continuation protocol takes true, and required is a boolean', () => {
  expect(app.get('/', { upgrade: { protocols: { resume: true }, required: true } }, async () => 'x')).type.not.toRaiseError()
  expect(app.get('/', { upgrade: { protocols: { resume: true }, required: 'yes' } }, async () => 'x')).type.toRaiseError()
})

test('a wrong key, or the wrong kind of value, is a compile error', () => {
  expect(app.get('/', { upgrade: { protocols: { nope: true } } }, async () => 'x')).type.toRaiseError()
  expect(app.get('/', { upgrade: { protocols: { echo: true } } }, async () => 'x')).type.toRaiseError()
  expect(app.get('/', { upgrade: { protocols: { resume: () => {} } } }, async () => 'x')).type.toRaiseError()
  expect(app.get('/', { upgrade: { protocols: { echo: (socket: string) => socket } } }, async () => 'x')).type.toRaiseError()
  expect(app.get('/', { upgrade: {} }, async () => 'x')).type.toRaiseError()
})

test('raw() needs a name and tokens, and returns an adapter', () => {
  expect(raw({ name: 'echo', tokens: ['echo/1'] })).type.toBeAssignableTo<ProtocolAdapter>()
  expect(raw({ name: 'echo' })).type.toRaiseError()
})

test('a third-party adapter is typed by the contract', () => {
  const adapter: ProtocolAdapter<true> = {
    name: 'mine',
    tokens: ['mine/1'],
    route: { value: 'continuation', isActive: (request) => request.protocol === 'https' },
    check (request, reply, token, value) {
      expect(token).type.toBe<string>()
      expect(value).type.toBe<true>()
      expect(reply.header).type.not.toBe<never>()
      return request.headers.host !== undefined && { upgrade: 'MINE/1, HTTP/1.1', 'x-a': 'b' }
    },
    switch (ctx) {
      expect(ctx).type.toBe<UpgradeContext<true>>()
      expect(ctx.value).type.toBe<true>()
      ctx.onServerClose(() => { ctx.socket.end() })
      const reportClose = ctx.reportClose()
      expect(reportClose).type.toBe<(details: Record<string, unknown>) => void>()
      ctx.socket.once('close', () => { reportClose({ code: 1 }) })
    }
  }
  expect(adapter).type.toBeAssignableTo<ProtocolAdapter>()
  expect<ProtocolAdapter>().type.toBeAssignableFrom({ name: 'x', tokens: ['x'], switch () {} })
  expect<ProtocolAdapter>().type.not.toBeAssignableFrom({ name: 'x', tokens: ['x'] })
  expect<ProtocolAdapter>().type.not.toBeAssignableFrom({ name: 'x', tokens: ['x'], check: () => true, switch () {} })
})

test('fastify.upgrade.connections() counts upgraded connections by adapter name', () => {
  expect(app.upgrade.connections()).type.toBe<Record<string, number>>()
  expect(app.upgrade.connections().websocket).type.toBe<number>()
})

test('a route that speaks only one protocol names it', () => {
  app.get('/echo', { upgrade: 'echo' }, (socket, request) => {
    expect(socket).type.toBe<Socket>()
    expect(request).type.toBeAssignableTo<FastifyRequest>()
  })
  expect(app.get('/resume', { upgrade: 'resume' }, async () => 'resumed')).type.not.toRaiseError()
  expect(app.upgrade.adapter('echo')).type.toBe<ProtocolAdapter>()
})
