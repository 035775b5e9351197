import { test } from 'tap'
import { hasConnectionOption, negotiate, parseUpgrade, protocolKey } from '../lib/negotiation'

test('U1: protocol-name ["/" protocol-version], names case-insensitive, versions exact', async (t) => {
  t.equal(protocolKey('WebSocket'), 'websocket')
  t.equal(protocolKey('HTTP/2.0'), 'http/2.0')
  t.equal(protocolKey('TLS/1.2'), 'tls/1.2')
  t.equal(protocolKey('Echo/V1'), 'echo/V1')
  t.equal(protocolKey('a/b/c'), undefined)
  t.equal(protocolKey('/1'), undefined)
  t.equal(protocolKey('x/'), undefined)
  t.equal(protocolKey('"quoted"'), undefined)
  t.equal(protocolKey('sp ace'), undefined)
  t.equal(protocolKey('ünï'), undefined)
})
