import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'tap'
import fastifyUpgrade from '../lib/index'
import { build, listen } from './helpers'
import { certificate } from './tls-helpers'

/** One IPP attribute: value tag, name, value (RFC 8010 §3.1.4). */
function attribute (tag: number, name: string, value: string): Buffer {
  const n = Buffer.from(name)
  const v = Buffer.from(value)
  const out = Buffer.alloc(5 + n.length + v.length)
  out[0] = tag
  out.writeUInt16BE(n.length, 1)
  n.copy(out, 3)
  out.writeUInt16BE(v.length, 3 + n.length)
  v.copy(out, 5 + n.length)
  return out
}

/** A successful Get-Printer-Attributes response to `request`, naming one printer attribute. */
function printerAttributes (request: Buffer): Buffer {
  const head = Buffer.alloc(8)
  request.copy(head, 0, 0, 2)
  head.writeUInt16BE(0x0000, 2)
  request.copy(head, 4, 4, 8)
  return Buffer.concat([
    head,
    Buffer.from([0x01]),
    attribute(0x47, 'attributes-charset', 'utf-8'),
    attribute(0x48, 'attributes-natural-language', 'en'),
    Buffer.from([0x04]),
    attribute(0x42, 'printer-name', 'fastify-upgrade'),
    Buffer.from([0x03])
  ])
}

const missing = spawnSync('ipptool', ['--version']).error !== undefined
const skip = missing && process.env.CI === undefined ? 'ipptool is not installed (Debian: cups-ipp-utils)' : false

test('T1-T2: ipptool -E upgrades with OPTIONS * and completes an IPP request over TLS', { skip }, async (t) => {
  const protocols: string[] = []
  const app = await build(t, { protocols: [fastifyUpgrade.tls(certificate())] })
  app.addContentTypeParser('application/ipp', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
  app.post('/ipp/print', { upgrade: { protocols: { tls: true }, required: true } }, async (request, reply) => {
    protocols.push(request.protocol)
    return reply.type('application/ipp').send(printerAttributes(request.body as Buffer))
  })
  const port = await listen(app)
  const child = spawn('ipptool', ['-E', '-tv', '-T', '10', `ipp://127.0.0.1:${port}/ipp/print`, join(__dirname, 'fixtures', 'get-printer-attributes.test')])
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  child.stderr.on('data', (chunk) => { output += chunk })
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 0, 'ipptool exits with success')
  t.match(output, /Get-Printer-Attributes over TLS after Upgrade\s+\[PASS\]/, output)
  t.match(output, /printer-name \(nameWithoutLanguage\) = fastify-upgrade/)
  t.same(protocols, ['https'], 'the IPP request came over TLS')
})
