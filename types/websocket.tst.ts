import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { expect } from 'tstyche'
import type { WebSocket } from 'ws'
import fastifyUpgrade, { websocket, type ProtocolAdapter, type SlowClientCounts, type UpgradeHandler, type WebSocketRoute } from '..'

const app = Fastify()
app.register(fastifyUpgrade, { protocols: [websocket(), websocket({ maxPayload: 0, perMessageDeflate: { threshold: 1024 }, allowedOrigins: ['https://a.example'] })] })

expect(websocket()).type.toBeAssignableTo<ProtocolAdapter<UpgradeHandler<WebSocket> | WebSocketRoute>>()
expect(websocket({ allowedOrigins: (origin, request) => origin === request.host })).type.not.toRaiseError()
expect(websocket({ handleProtocols: (acceptable) => acceptable[0] ?? false })).type.not.toRaiseError()
expect(websocket).type.not.toBeCallableWith({ maxPayload: '1' })
expect(websocket({ clientTracking: false }).clients).type.toBe<ReadonlySet<WebSocket>>()
expect(websocket).type.not.toBeCallableWith({ clientTracking: 'yes' })

// The slow-client guard: a byte limit and a policy, and its live counts on the adapter.
expect(websocket({ maxBufferedAmount: 4 * 1024 * 1024, slowClient: 'skip' })).type.not.toRaiseError()
expect(websocket({ maxBufferedAmount: 0, slowClient: 1008 })).type.not.toRaiseError()
expect(websocket).type.not.toBeCallableWith({ slowClient: 1000 })
expect(websocket).type.not.toBeCallableWith({ slowClient: 'close' })
expect(websocket).type.not.toBeCallableWith({ maxBufferedAmount: '1mb' })
expect(websocket().slowClients).type.toBe<Readonly<SlowClientCounts>>()
expect(websocket().slowClients.closed).type.toBe<number>()

app.get('/this', {
  upgrade: {
    protocols: {
      websocket () {
        expect(this).type.toBe<FastifyInstance>()
      }
    }
  }
}, async () => 'plain')

app.get('/chat', {
  upgrade: {
    protocols: {
      websocket: (socket, request) => {
        expect(socket).type.toBe<WebSocket>()
        expect(request).type.toBeAssignableTo<FastifyRequest>()
      }
    }
  }
}, async () => 'plain')

app.get('/async', { upgrade: { protocols: { websocket: async (socket) => { socket.send('hi') } } } }, async () => 'plain')

app.get<{ Params: { room: string } }>('/room/:room', {
  upgrade: {
    protocols: {
      websocket: {
        handler (socket, request) {
          expect(socket).type.toBe<WebSocket>()
          expect(request.params.room).type.toBe<string>()
        },
        protocols: ['chat.v2', 'chat.v1'],
        maxPayload: 65536
      }
    }
  }
}, async () => 'plain')

expect(app.get).type.not.toBeCallableWith('/bad', { upgrade: { protocols: { websocket: true } } }, async () => '')
expect(app.get).type.not.toBeCallableWith('/bad', { upgrade: { protocols: { websocket: { protocols: ['a'] } } } }, async () => '')
expect(app.get).type.not.toBeCallableWith('/bad', { upgrade: { protocols: { websocket: { handler: (socket: WebSocket) => socket, maxPayload: 'big' } } } }, async () => '')

// RFC 8441: on by default, off with `http2: false`; a stream hand-off is part of the public contract.
expect(websocket({ http2: false })).type.not.toRaiseError()
expect(websocket).type.not.toBeCallableWith({ http2: 'no' })
expect(websocket().extendedConnect?.protocol).type.toBe<string | undefined>()
const streamAdapter: ProtocolAdapter = {
  name: 'stream-echo',
  tokens: ['stream-echo'],
  check: () => ({ 'x-answer': 'yes' }),
  extendedConnect: {
    protocol: 'stream-echo',
    connect (ctx) {
      expect(ctx.stream).type.toBe<import('node:http2').ServerHttp2Stream>()
      expect(ctx.protocol).type.toBe<string>()
      expect(ctx.request).type.toBe<FastifyRequest>()
      ctx.onServerClose(() => { ctx.stream.close() })
      ctx.reportClose()({ reason: 'done' })
    }
  },
  switch () {}
}
expect(streamAdapter).type.toBeAssignableTo<ProtocolAdapter>()

// A WebSocket-only route: the route's handler is the WebSocket handler.
app.get<{ Params: { room: string } }>('/only/:room', { upgrade: 'websocket' }, (socket, request) => {
  expect(socket).type.toBe<WebSocket>()
  expect(request.params.room).type.toBe<string>()
})
app.get('/secret', { upgrade: 'tls' }, async (request) => {
  expect(request).type.toBeAssignableTo<FastifyRequest>()
  return 'secret'
})
expect(app.get).type.not.toBeCallableWith('/bad', { upgrade: 'nonesuch' }, async () => '')

// The adapters, from any scope.
expect(app.upgrade.adapter('websocket').clients).type.toBe<ReadonlySet<WebSocket>>()
expect(app.upgrade.adapter('echo')).type.toBe<ProtocolAdapter>()
