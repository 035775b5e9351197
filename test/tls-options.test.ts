import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { certificate } from './tls-helpers'

const { tls } = fastifyUpgrade

test('tls() answers TLS/1.x tokens within minVersion..maxVersion, default TLSv1.2 only', async (t) => {
  t.same(tls(certificate()).tokens, ['TLS/1.2'])
  t.same(tls({ ...certificate(), minVersion: 'TLSv1', maxVersion: 'TLSv1.3' }).tokens, ['TLS/1.0', 'TLS/1.1', 'TLS/1.2', 'TLS/1.3'])
  t.same(tls({ ...certificate(), minVersion: 'TLSv1.1' }).route?.advertise, ['TLS/1.2', 'TLS/1.1', 'HTTP/1.1'])
  const adapter = tls(certificate())
  t.equal(adapter.name, 'tls')
  t.equal(adapter.route?.value, 'continuation')
})

test('tls() refuses options it cannot serve', async (t) => {
  const { key, cert } = certificate()
  const needs = { code: 'FST_ERR_UPGRADE_OPTIONS', message: 'fastify-upgrade: tls() needs { key, cert } (or pfx)' }
  t.throws(() => tls(undefined as never), needs)
  t.throws(() => tls({ key }), needs)
  t.throws(() => tls({ cert }), needs)
  const versions = { code: 'FST_ERR_UPGRADE_OPTIONS', message: /minVersion ≤ maxVersion/ }
  t.throws(() => tls({ key, cert, minVersion: 'TLSv1.3' }), versions)
  t.throws(() => tls({ key, cert, maxVersion: 'SSLv3' as never }), { code: 'FST_ERR_UPGRADE_OPTIONS', message: /tls\(\) maxVersion must be "TLSv1" or/ })
  t.throws(() => tls({ key: 'not a key', cert }), 'a bad key fails when the adapter is made, not on the first upgrade')
})
