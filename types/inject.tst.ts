import type { IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import type WebSocket from 'ws'
import type { InjectUpgradeResponse, InjectWSError, InjectWSOptions } from 'fastify-upgrade'

const app = Fastify()

test('injectWS takes @fastify/websocket\'s arguments and resolves to a ws WebSocket', () => {
  // Named as @fastify/websocket names it (so that both declarations merge): ws's WebSocket either way.
  expect(app.injectWS()).type.toBeAssignableTo<Promise<WebSocket>>()
  expect(app.injectWS()).type.toBeAssignableTo<Promise<WebSocket.WebSocket>>()
  expect(app.injectWS('/chat')).type.toBeAssignableTo<Promise<WebSocket>>()
  expect(app.injectWS('/chat', { headers: { authorization: 'Bearer x' } })).type.toBeAssignableTo<Promise<WebSocket>>()
  expect(app.injectWS('/chat', {}, {
    protocols: ['chat.v1'],
    headers: { cookie: 'a=b' },
    perMessageDeflate: false,
    onInit: (ws) => { expect(ws).type.toBeAssignableTo<WebSocket>() },
    onOpen: (ws) => { ws.send('hi') }
  })).type.not.toRaiseError()
  expect(app.injectWS).type.not.toBeCallableWith(7)
  expect(app.injectWS).type.not.toBeCallableWith('/chat', { headers: 7 })
  expect(app.injectWS).type.not.toBeCallableWith('/chat', {}, { protocols: 7 })
  expect(app.injectWS).type.not.toBeCallableWith('/chat', {}, { onOpen: (ws: string) => ws })
})

test('what injectWS rejects with when the answer is not 101', () => {
  expect<InjectWSError['statusCode']>().type.toBe<number>()
  expect<InjectWSError['code']>().type.toBe<'FST_ERR_UPGRADE_UNEXPECTED_RESPONSE'>()
  expect<InjectWSError['headers']>().type.toBe<IncomingHttpHeaders>()
  expect<InjectWSError['body']>().type.toBe<string>()
  expect<InjectWSError>().type.toBeAssignableTo<Error>()
  expect<InjectWSOptions['protocols']>().type.toBe<string | string[] | undefined>()
})

test('injectUpgrade asks for a protocol and answers status, headers, and the connection or the body', () => {
  expect(app.injectUpgrade('/echo', { upgrade: 'echo/1' })).type.toBe<Promise<InjectUpgradeResponse>>()
  expect(app.injectUpgrade('/echo')).type.not.toRaiseError()
  expect(app.injectUpgrade('/echo', { upgrade: 'echo/1', method: 'POST', headers: { 'content-type': 'text/plain' }, body: Buffer.from('x') })).type.not.toRaiseError()
  expect(app.injectUpgrade).type.not.toBeCallableWith()
  expect(app.injectUpgrade).type.not.toBeCallableWith('/echo', { upgrade: ['echo/1'] })
  expect(app.injectUpgrade).type.not.toBeCallableWith('/echo', { body: 7 })
  expect<InjectUpgradeResponse['statusCode']>().type.toBe<number>()
  expect<InjectUpgradeResponse['socket']>().type.toBe<Duplex | null>()
  expect<InjectUpgradeResponse['body']>().type.toBe<string>()
  expect<InjectUpgradeResponse['rawPayload']>().type.toBe<Buffer>()
})
