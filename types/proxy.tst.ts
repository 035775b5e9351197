import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { expect, test } from 'tstyche'
import { cameThroughProxy, h2c, tls, type BehindProxy, type ProtocolAdapter } from '..'

const certificate = { key: 'key', cert: 'cert' }

test('h2c() and tls() take behindProxy: refuse or allow', () => {
  expect(h2c({ behindProxy: 'allow' })).type.toBe<ProtocolAdapter<true>>()
  expect(tls({ ...certificate, behindProxy: 'refuse' })).type.toBe<ProtocolAdapter<true>>()
  expect(h2c).type.not.toBeCallableWith({ behindProxy: true })
  expect(tls).type.not.toBeCallableWith({ ...certificate, behindProxy: 'sometimes' })
  expect<BehindProxy>().type.toBe<'refuse' | 'allow'>()
})

test('cameThroughProxy() reads a Fastify request or Node\'s', () => {
  expect(cameThroughProxy).type.toBeCallableWith({} as FastifyRequest)
  expect(cameThroughProxy).type.toBeCallableWith({} as IncomingMessage)
  expect(cameThroughProxy({} as IncomingMessage)).type.toBe<boolean>()
  expect(cameThroughProxy).type.not.toBeCallableWith('request')
})

test('a third-party adapter may decline a server-wide upgrade', () => {
  const adapter: ProtocolAdapter<true> = {
    name: 'mine',
    tokens: ['mine/1'],
    route: { value: 'continuation' },
    switch () {},
    serverWide: {
      check (request, token, fastify) {
        expect(request).type.toBe<IncomingMessage>()
        expect(fastify).type.toBe<FastifyInstance>()
        expect(token).type.toBe<string>()
        if (cameThroughProxy(request)) return false
      },
      switch () {}
    }
  }
  expect(adapter).type.toBeAssignableTo<ProtocolAdapter>()
})
