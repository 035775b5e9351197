'use strict'

// Whether a 101 was allowed: an independent reading of the bytes sent (not the plugin's parser),
// strict where a switch needs it, and of the app that scripts/fuzz/app.js builds.
const { acceptFor } = require('./cases')

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Upgrade token (lower case) → adapter; the tls adapter speaks TLS/1.2 only by default.
const ADAPTERS = { websocket: 'websocket', h2c: 'h2c', 'http/2': 'h2c', 'http/2.0': 'h2c', 'tls/1.2': 'tls', 'echo/1': 'echo' }
const ALL = ['websocket', 'h2c', 'tls', 'echo']
const ROUTES = {
  '/ws': ['websocket'],
  '/ws-sub': ['websocket'],
  '/h2': ['h2c'],
  '/tls': ['tls'],
  '/echo': ['echo'],
  '/all': ALL,
  '/required': ['websocket', 'h2c'],
  '/auth/all': ALL
}
const SUBPROTOCOLS = { '/ws-sub': ['chat.v1', 'chat.v2'] }
const MAX_BODY = 1024

const elements = (values) => values.flatMap((value) => value.split(',')).map((e) => e.trim()).filter((e) => e !== '')

/** The request at the start of `bytes`, read strictly; `undefined` when it is not a well-formed HTTP/1.1 request. */
function parse (bytes) {
  // Empty lines before the request line are ignored (RFC 9112 §2.2), as Node's parser does.
  const skipped = /^[\r\n]*/.exec(bytes.toString('latin1'))[0].length
  bytes = bytes.subarray(skipped)
  const text = bytes.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  const [line, ...lines] = text.slice(0, end).split('\r\n')
  const match = /^([^ ]+) ([^ ]+) HTTP\/1\.1$/.exec(line)
  if (match === null || !TOKEN.test(match[1])) return undefined
  const headers = new Map()
  for (const fieldLine of lines) {
    const field = /^([^:]+):[ \t]*(.*?)[ \t]*$/.exec(fieldLine)
    if (field === null || !TOKEN.test(field[1]) || /[\x00-\x08\x0a-\x1f\x7f]/.test(field[2])) return undefined // eslint-disable-line no-control-regex
    const name = field[1].toLowerCase()
    headers.set(name, [...(headers.get(name) ?? []), field[2]])
  }
  return { method: match[1], target: match[2], headers, rest: bytes.subarray(end + 4) }
}

/** Whether the body framed by `headers` is whole and acceptable in `rest`. */
function bodyProblem (headers, rest) {
  const te = headers.get('transfer-encoding')
  const cl = headers.get('content-length')
  if (te !== undefined) {
    if (cl !== undefined) return 'Content-Length and Transfer-Encoding'
    if (te.length !== 1 || te[0].toLowerCase() !== 'chunked') return 'Transfer-Encoding other than chunked'
    let at = 0
    let size = 0
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at)
      if (lineEnd === -1) return 'incomplete chunked body'
      const sizeText = rest.toString('latin1', at, lineEnd)
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) return 'bad chunk size'
      const n = parseInt(sizeText, 16)
      at = lineEnd + 2
      if (n === 0) break
      if (rest.length < at + n + 2) return 'incomplete chunked body'
      if (rest.toString('latin1', at + n, at + n + 2) !== '\r\n') return 'bad chunk end'
      at += n + 2
      size += n
    }
    if (rest.indexOf('\r\n', at) === -1) return 'incomplete chunked body'
    return size > MAX_BODY ? 'body over maxBodySize' : undefined
  }
  if (cl === undefined) return undefined
  if (cl.length !== 1 || !/^[0-9]+$/.test(cl[0])) return 'bad Content-Length'
  const length = Number(cl[0])
  if (length > MAX_BODY) return 'body over maxBodySize'
  return rest.length < length ? 'incomplete body' : undefined
}

function settingsProblem (value) {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) return 'HTTP2-Settings not base64url'
  const bytes = Buffer.from(value, 'base64url')
  if (bytes.length % 6 !== 0) return 'HTTP2-Settings not whole settings'
  for (let i = 0; i < bytes.length; i += 6) {
    const id = bytes.readUInt16BE(i)
    const v = bytes.readUInt32BE(i + 2)
    if (id === 2 && v > 1) return 'ENABLE_PUSH out of range'
    if (id === 4 && v > 2 ** 31 - 1) return 'INITIAL_WINDOW_SIZE out of range'
    if (id === 5 && (v < 16384 || v > 2 ** 24 - 1)) return 'MAX_FRAME_SIZE out of range'
  }
  return undefined
}

function webSocketProblem (request, response, route) {
  const { headers } = request
  if (request.method !== 'GET') return 'WebSocket upgrade of a method other than GET'
  const keys = headers.get('sec-websocket-key') ?? []
  if (keys.length !== 1 || !/^[A-Za-z0-9+/]{21}[AQgw]==$/.test(keys[0])) return 'no single valid Sec-WebSocket-Key'
  const versions = headers.get('sec-websocket-version') ?? []
  if (versions.length !== 1 || versions[0] !== '13') return 'Sec-WebSocket-Version is not 13'
  if (response.get('sec-websocket-accept') !== acceptFor(keys[0])) return 'wrong Sec-WebSocket-Accept'
  const chosen = response.get('sec-websocket-protocol')
  if (chosen !== undefined) {
    const offered = elements(headers.get('sec-websocket-protocol') ?? [])
    if (!offered.includes(chosen) || !(SUBPROTOCOLS[route] ?? []).includes(chosen)) return `subprotocol ${chosen} not offered or not the route's`
  }
  return undefined
}

/** Why the 101 in `responseHead` should not have been sent for `bytes`; `undefined` when it was allowed. */
function switchProblem (bytes, responseHead) {
  const request = parse(bytes)
  if (request === undefined) return '101 to a malformed request'
  const [status, ...lines] = responseHead.split('\r\n')
  if (!/^HTTP\/1\.1 101 /.test(status)) return `malformed 101 status line ${JSON.stringify(status)}`
  const response = new Map(lines.map((line) => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
  }))
  if (response.get('connection')?.toLowerCase() !== 'upgrade') return '101 without Connection: upgrade'
  const { headers } = request
  if (!elements(headers.get('connection') ?? []).some((option) => option.toLowerCase() === 'upgrade')) return '101 without upgrade in Connection'
  const token = elements([response.get('upgrade') ?? ''])[0] ?? ''
  const offered = elements(headers.get('upgrade') ?? []).map((t) => t.toLowerCase())
  if (!offered.includes(token.toLowerCase())) return `101 to ${token}, not offered`
  const adapter = ADAPTERS[token.toLowerCase()]
  if (adapter === undefined) return `101 to ${token}, which no adapter speaks`
  const route = request.target.split('?')[0]
  const speaks = request.target === '*' ? (request.method === 'OPTIONS' ? ['tls'] : []) : ROUTES[route] ?? []
  if (!speaks.includes(adapter)) return `101 to ${adapter} on ${request.method} ${request.target}, which does not speak it`
  if (request.target !== '*' && !['GET', 'POST'].includes(request.method)) return `101 to ${request.method}, a method the route has not`
  if (route.startsWith('/auth/') && (headers.get('authorization') ?? []).join() !== 'Bearer ok') return '101 past the auth hook'
  const body = bodyProblem(headers, request.rest)
  if (body !== undefined) return `101 with ${body}`
  const proxied = ['via', 'forwarded', 'x-forwarded-for'].some((name) => headers.has(name))
  if (adapter === 'websocket') return webSocketProblem(request, response, route)
  if (adapter === 'h2c') {
    if (proxied) return 'h2c through a proxy'
    const settings = headers.get('http2-settings') ?? []
    if (settings.length > 1) return 'two HTTP2-Settings'
    if (token.toLowerCase() === 'h2c' && (settings.length === 0 || !elements(headers.get('connection')).some((o) => o.toLowerCase() === 'http2-settings'))) {
      return 'h2c without HTTP2-Settings named in Connection'
    }
    return settings.length === 1 ? settingsProblem(settings[0]) : undefined
  }
  if (adapter === 'tls' && proxied) return 'TLS through a proxy'
  return undefined
}

module.exports = { switchProblem, MAX_BODY }
