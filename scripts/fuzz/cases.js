'use strict'

// What the fuzzer sends: requests built from the grammars of the fields an upgrade reads (Upgrade,
// Connection, HTTP2-Settings, Sec-WebSocket-*), then mutated at the byte level (framing, chunk
// sizes, Expect, versions, truncation, pipelining), and HTTP/2 prefaces for prior knowledge.
const { createHash } = require('node:crypto')
const fc = require('fast-check')

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const tchars = (min, max) => fc.string({ unit: fc.constantFrom(...TCHAR), minLength: min, maxLength: max })
// Field-value characters a client might send, a few that no field may hold among them.
const junk = fc.string({ unit: fc.constantFrom(...'ab/=,; \t"\\()<>@:?{}\x00\x7f\xff\r\n'), maxLength: 12 })

/** Mostly `valid`, sometimes `fuzzed`: most cases get far enough to reach a 101 or a refusal near it. */
const mostly = (valid, fuzzed, weight = 4) => fc.oneof({ weight, arbitrary: valid }, { weight: 1, arbitrary: fuzzed })

/** A list field's value: elements, separators with optional whitespace, and empty elements (RFC 9110 §5.6.1). */
const list = (element) => fc.tuple(
  fc.array(element, { minLength: 0, maxLength: 5 }),
  fc.array(fc.constantFrom(',', ', ', ' ,', ',,', ' , ', ',\t', ''), { minLength: 5, maxLength: 5 }),
  fc.constantFrom('', ' ', '\t', ',')
).map(([elements, separators, edge]) => edge + elements.map((e, i) => (i === 0 ? '' : separators[i] || ',') + e).join('') + (edge === ',' ? '' : edge))

const upgradeToken = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('websocket', 'WebSocket', 'h2c', 'H2C', 'HTTP/2', 'HTTP/2.0', 'http/2', 'HTTP/2.1', 'HTTP/3',
      'TLS/1.2', 'tls/1.2', 'TLS/1.0', 'TLS/1.1', 'TLS/1.3', 'TLS', 'HTTP/1.1', 'echo/1', 'ECHO/1', 'echo/2', 'echo', 'websocket/13')
  },
  { weight: 2, arbitrary: fc.tuple(tchars(1, 8), fc.option(tchars(0, 4))).map(([name, version]) => version === null ? name : `${name}/${version}`) },
  { weight: 1, arbitrary: junk }
)
const connectionOption = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('upgrade', 'Upgrade', 'UPGRADE', 'keep-alive', 'close', 'HTTP2-Settings', 'http2-settings', 'te') },
  { weight: 1, arbitrary: tchars(1, 8) },
  { weight: 1, arbitrary: junk }
)

// RFC 9113 §6.5.2 settings: the id, then a value each range check has to see.
const setting = fc.tuple(
  fc.constantFrom(1, 2, 3, 4, 5, 6, 8, 9, 0, 7, 0xffff),
  fc.oneof(fc.constantFrom(0, 1, 2, 16383, 16384, 65535, 2 ** 24 - 1, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1), fc.nat())
)
const http2Settings = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(setting, { maxLength: 4 }).map((settings) => {
      const bytes = Buffer.alloc(settings.length * 6)
      settings.forEach(([id, value], i) => { bytes.writeUInt16BE(id, i * 6); bytes.writeUInt32BE(value >>> 0, i * 6 + 2) })
      return bytes.toString('base64url')
    })
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes).toString('base64')) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'AAAAAQ-_+/= ,'), maxLength: 16 }) }
)
const webSocketKey = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes).toString('base64')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('base64')) },
  { weight: 1, arbitrary: junk }
)
const webSocketVersion = fc.oneof({ weight: 6, arbitrary: fc.constant('13') }, fc.constantFrom('8', '13, 8', '', ' 13', '013', '14'), junk)
const subprotocol = fc.oneof(fc.constantFrom('chat.v1', 'chat.v2', 'CHAT.V1', 'other'), tchars(1, 6), junk)
const extension = fc.constantFrom('permessage-deflate', 'permessage-deflate; client_max_window_bits', 'permessage-deflate; server_max_window_bits=7', 'x-unknown', 'permessage-deflate;;', '')

const ROUTES = ['/ws', '/ws-sub', '/h2', '/tls', '/echo', '/all', '/plain', '/required', '/auth/all', '/nowhere', '*', '/all?x=1']

const single = (arbitrary) => arbitrary.map((value) => [value])
const validUpgrade = fc.constantFrom('websocket', 'h2c', 'HTTP/2', 'TLS/1.2', 'echo/1', 'websocket, h2c', 'TLS/1.2, HTTP/1.1', 'h2c, websocket, echo/1')
const validConnection = fc.constantFrom('Upgrade', 'upgrade', 'Upgrade, HTTP2-Settings', 'keep-alive, Upgrade')

/** Header lines `[name, value]` of an upgrade request, each field mostly valid, sometimes absent, repeated or fuzzed. */
const fields = fc.record({
  connection: mostly(single(validConnection), fc.array(list(connectionOption), { maxLength: 2 })),
  upgrade: mostly(single(validUpgrade), fc.array(list(upgradeToken), { maxLength: 2 }), 2),
  settings: mostly(fc.array(fc.constant('AAMAAABkAAQAoAAAAAIAAAAA'), { maxLength: 1 }), fc.array(http2Settings, { maxLength: 2 }), 2),
  key: mostly(single(webSocketKey), fc.array(webSocketKey, { maxLength: 2 })),
  version: mostly(fc.constant(['13']), fc.array(webSocketVersion, { maxLength: 2 })),
  protocols: mostly(fc.constantFrom([], ['chat.v2'], ['chat.v1, chat.v2']), fc.array(list(subprotocol), { maxLength: 2 }), 2),
  extensions: fc.array(extension, { maxLength: 1 }),
  auth: fc.constantFrom(undefined, undefined, 'Bearer ok', 'Bearer ok', 'Bearer no'),
  proxy: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, ['X-Forwarded-For', '10.0.0.1'], ['Via', '1.1 proxy'], ['Forwarded', 'for=10.0.0.1']),
  host: fc.constantFrom('127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', undefined, 'a b', '127.0.0.1, evil'),
  expect: fc.constantFrom(undefined, undefined, undefined, undefined, '100-continue', '100-Continue', 'nothing')
})

const body = fc.record({
  framing: fc.constantFrom('none', 'none', 'none', 'none', 'length', 'length', 'chunked', 'chunked', 'both', 'length-twice', 'bad-length', 'bad-chunk', 'te-other'),
  data: fc.uint8Array({ maxLength: 96 }),
  big: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  chunks: fc.array(fc.nat(40), { minLength: 1, maxLength: 4 })
})

/** After the request, in the same connection: nothing, another request, or the new protocol's first bytes. */
const after = fc.constantFrom('', '', 'GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'ws-close', 'ws-text', 'h2-preface', 'tls-junk', 'random')

const request = fc.record({
  method: mostly(fc.constantFrom('GET', 'POST'), fc.constantFrom('OPTIONS', 'HEAD', 'PUT', 'CONNECT', 'G ET', 'get'), 6),
  path: fc.constantFrom(...ROUTES),
  version: mostly(fc.constant('HTTP/1.1'), fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'HTTP/11', 'http/1.1'), 8),
  fields,
  order: fc.nat(1000),
  body,
  after
})

/** Byte-level mutations applied to a whole request. */
const mutation = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate'), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip'), at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert'), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.constantFrom('\r\n', '\n', '\r', ' ', '\t', ':', '\x00', '\r\n\r\n', 'Upgrade: h2c\r\n', 'Transfer-Encoding: chunked\r\n') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete'), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bare-lf') }) }
)

const priorKnowledge = fc.record({
  kind: fc.constant('preface'),
  cut: fc.constantFrom(24, 24, 10, 23, 0),
  frames: fc.array(fc.oneof(fc.constantFrom('settings', 'settings-ack', 'preface', 'goaway', 'ping', 'headers'), fc.uint8Array({ maxLength: 30 })), { maxLength: 4 }),
  fin: fc.boolean()
})

/**
 * A case: what to send, in which pieces, and whether the client then half-closes; one in three
 * leaves its connection open, whole or not.
 */
function caseArbitrary () {
  const http = fc.record({
    kind: fc.constant('http'),
    request,
    mutation,
    pieces: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    fin: fc.constantFrom(true, true, false)
  })
  return fc.oneof({ weight: 9, arbitrary: http }, { weight: 1, arbitrary: priorKnowledge })
}

function frame (type, flags, stream, payload) {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

// HEADERS for stream 1, GET /all, HPACK indexed fields only (:method GET, :scheme http, :path /) plus :authority literal.
const H2_HEADERS = frame(1, 0x5, 1, Buffer.from([0x82, 0x86, 0x84, 0x41, 0x09, ...Buffer.from('127.0.0.1')]))
const H2_FRAMES = {
  settings: frame(4, 0, 0, Buffer.alloc(0)),
  'settings-ack': frame(4, 1, 0, Buffer.alloc(0)),
  preface: PREFACE,
  goaway: frame(7, 0, 0, Buffer.alloc(8)),
  ping: frame(6, 0, 0, Buffer.alloc(8)),
  headers: H2_HEADERS
}

function afterBytes (after) {
  switch (after) {
    case 'ws-close': return Buffer.from([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2])
    case 'ws-text': return Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69])
    case 'h2-preface': return Buffer.concat([PREFACE, H2_FRAMES.settings])
    case 'tls-junk': return Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3])
    case 'random': return Buffer.from('\x00\xff garbage \r\n\r\n', 'latin1')
    default: return Buffer.from(after, 'latin1')
  }
}

function encodeBody ({ framing, data, big, chunks }, headers) {
  let bytes = Buffer.from(data)
  if (big) bytes = Buffer.alloc(5000, 0x61)
  switch (framing) {
    case 'none': return bytes.subarray(0, 0)
    case 'length': headers.push(['Content-Length', String(bytes.length)]); return bytes
    case 'length-twice': headers.push(['Content-Length', String(bytes.length)], ['Content-Length', String(bytes.length + 1)]); return bytes
    case 'bad-length': headers.push(['Content-Length', `${bytes.length}x`]); return bytes
    case 'te-other': headers.push(['Transfer-Encoding', 'gzip']); return bytes
    default: {
      if (framing === 'both') headers.push(['Content-Length', String(bytes.length)])
      headers.push(['Transfer-Encoding', 'chunked'])
      const parts = []
      let at = 0
      for (const size of chunks) {
        const piece = bytes.subarray(at, at + size)
        at += piece.length
        if (piece.length > 0) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'))
      }
      if (at < bytes.length) parts.push(Buffer.from(`${(bytes.length - at).toString(16)}\r\n`), bytes.subarray(at), Buffer.from('\r\n'))
      parts.push(Buffer.from(framing === 'bad-chunk' ? 'zz\r\n\r\n' : '0\r\n\r\n'))
      return Buffer.concat(parts)
    }
  }
}

/** The request's bytes before mutation. */
function encodeRequest ({ method, path, version, fields: f, order, body: b, after }) {
  const headers = []
  if (f.host !== undefined) headers.push(['Host', f.host])
  for (const value of f.connection ?? []) headers.push(['Connection', value])
  for (const value of f.upgrade ?? []) headers.push(['Upgrade', value])
  for (const value of f.settings ?? []) headers.push(['HTTP2-Settings', value])
  for (const value of f.key ?? []) headers.push(['Sec-WebSocket-Key', value])
  for (const value of f.version ?? []) headers.push(['Sec-WebSocket-Version', value])
  for (const value of f.protocols ?? []) headers.push(['Sec-WebSocket-Protocol', value])
  for (const value of f.extensions ?? []) headers.push(['Sec-WebSocket-Extensions', value])
  if (f.auth !== undefined) headers.push(['Authorization', f.auth])
  if (f.proxy !== undefined) headers.push(f.proxy)
  if (f.expect !== undefined) headers.push(['Expect', f.expect])
  const payload = encodeBody(b, headers)
  // A rotation keeps every field's position in play without shuffling the whole list.
  const turn = headers.length === 0 ? 0 : order % headers.length
  const lines = [...headers.slice(turn), ...headers.slice(0, turn)].map(([name, value]) => `${name}: ${value}`)
  const head = Buffer.from([`${method} ${path} ${version}`, ...lines, '', ''].join('\r\n'), 'latin1')
  return Buffer.concat([head, payload, afterBytes(after)])
}

function mutate (bytes, m) {
  const at = Math.floor((m.at ?? 0) * bytes.length)
  switch (m.kind) {
    case 'truncate': return bytes.subarray(0, at)
    case 'flip': { const copy = Buffer.from(bytes); if (at < copy.length) copy[at] = m.byte; return copy }
    case 'insert': return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes, 'latin1'), bytes.subarray(at)])
    case 'delete': return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)])
    case 'bare-lf': return Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')
    default: return bytes
  }
}

/** `{ bytes, pieces, fin }`: the bytes to send, cut at `pieces` offsets; `fin`: half-close after them. */
function materialize (c) {
  if (c.kind === 'preface') {
    const frames = c.frames.map((f) => typeof f === 'string' ? H2_FRAMES[f] : Buffer.from(f))
    const bytes = c.cut === 24 ? Buffer.concat([PREFACE, ...frames]) : PREFACE.subarray(0, c.cut)
    return { bytes, pieces: [], fin: c.fin }
  }
  const bytes = mutate(encodeRequest(c.request), c.mutation)
  const pieces = c.pieces.map((p) => Math.floor(p * bytes.length)).sort((a, b) => a - b)
  return { bytes, pieces, fin: c.fin }
}

/** `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2). */
function acceptFor (key) {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
}

module.exports = { caseArbitrary, materialize, acceptFor, PREFACE }
