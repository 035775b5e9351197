import { test } from 'tap'
import { hasConnectionOption, parseUpgrade, protocolKey } from '../lib/kit/lists'
import { negotiate, type RouteProtocols } from '../lib/route/negotiation'
import type { ProtocolAdapter } from '../types/index'

function adapter (name: string): ProtocolAdapter {
  return { name, tokens: [], route: { value: 'continuation' }, switch () {} }
}

function routeProtocols (...names: Array<[string, string[]]>): RouteProtocols {
  const map: RouteProtocols = new Map()
  names.forEach(([name, tokens], rank) => {
    const candidate = { adapter: adapter(name), value: true, rank }
    for (const token of tokens) map.set(protocolKey(token) as string, candidate)
  })
  return map
}

test('U1: protocol-name ["/" protocol-version], names case-insensitive, versions exact', async (t) => {
  t.equal(protocolKey('WebSocket'), 'websocket')
  t.equal(protocolKey('HTTP/2.0'), 'http/2.0')
  t.equal(protocolKey('Echo/V1'), 'echo/V1', 'the version keeps its case')
  t.not(protocolKey('echo/v1'), protocolKey('ECHO/V1'))
  for (const bad of ['a/b/c', '/1', 'x/', '"quoted"', 'sp ace', 'ünï', '', 'a;b', 'h2c\u0000']) {
    t.equal(protocolKey(bad), undefined, JSON.stringify(bad))
  }
})

test('U1: the Upgrade list keeps the client order and tokens as sent, skipping empty elements, OWS and invalid ones', async (t) => {
  const offers = parseUpgrade(' ,HTTP/2.0 ,\t, "h2c", web socket, WebSocket,,echo/1 ')
  t.same(offers, [
    { token: 'HTTP/2.0', key: 'http/2.0' },
    { token: 'WebSocket', key: 'websocket' },
    { token: 'echo/1', key: 'echo/1' }
  ])
  t.same(parseUpgrade(undefined), [])
  t.same(parseUpgrade(''), [])
  t.same(parseUpgrade(',,, ,'), [])
})

test('S4: thousands of elements and hostile bytes cost bounded work', async (t) => {
  const huge = Array.from({ length: 5000 }, (_, i) => `p${i}`).join(',') + ', echo/1'
  const offers = parseUpgrade(huge)
  t.equal(offers.length, 32, 'only the first 32 elements are read')
  t.notOk(offers.some((offer) => offer.key === 'echo/1'), 'an offer past the bound is ignored')
  t.same(parseUpgrade(','.repeat(16000)), [])
  t.same(parseUpgrade('\u00ff\u0000\r\n, "\\"'), [])
})

test('U2: the Connection option compares case-insensitively anywhere in the list', async (t) => {
  t.ok(hasConnectionOption('keep-alive, Upgrade', 'upgrade'))
  t.ok(hasConnectionOption('UPGRADE', 'upgrade'))
  t.ok(hasConnectionOption(' ,upgrade ,', 'upgrade'))
  t.notOk(hasConnectionOption('upgrades, keep-alive', 'upgrade'))
  t.notOk(hasConnectionOption('keep-alive', 'upgrade'))
  t.notOk(hasConnectionOption(undefined, 'upgrade'))
  t.notOk(hasConnectionOption('x,'.repeat(100) + 'upgrade', 'upgrade'), 'an option past the bound is ignored')
})

test('U4: client preference takes the first acceptable offer in the client order', async (t) => {
  const protocols = routeProtocols(['h2c', ['h2c', 'HTTP/2']], ['websocket', ['websocket']])
  const choices = negotiate(parseUpgrade('HTTP/3, websocket, h2c'), protocols, 'client')
  t.same(choices.map((choice) => choice.offer.token), ['websocket', 'h2c'])
  t.same(negotiate(parseUpgrade('HTTP/3, h2'), protocols, 'client'), [], 'never a protocol the client did not offer')
})

test('U4: server preference takes the route order, ties in the client order', async (t) => {
  const protocols = routeProtocols(['h2c', ['h2c', 'HTTP/2']], ['websocket', ['websocket']])
  const choices = negotiate(parseUpgrade('websocket, HTTP/2, h2c'), protocols, 'server')
  t.same(choices.map((choice) => choice.offer.token), ['HTTP/2', 'h2c', 'websocket'])
})

test('an offer repeated by the client is a single choice', async (t) => {
  const protocols = routeProtocols(['echo', ['echo/1']])
  t.same(negotiate(parseUpgrade('echo/1, ECHO/1, echo/1'), protocols, 'client').map((choice) => choice.offer.token), ['echo/1'])
})
