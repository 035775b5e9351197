import type { IncomingMessage } from 'node:http'

// The cleartext hop's framing and connection fields: the replay gets a fresh Content-Length, and
// its connection is already upgraded (the 100 Continue, if any, was sent before the 101).
const HOP_FIELDS = new Set(['connection', 'upgrade', 'content-length', 'transfer-encoding', 'expect', 'keep-alive', 'te', 'trailer'])

/** The options a request's `Connection` field lists, lower case; an upgrade request always has one. */
export function connectionOptions (request: IncomingMessage): string[] {
  return String(request.headers.connection).split(',').map((option) => option.trim().toLowerCase())
}

/**
 * The original request as Node's parser reads it on the TLS connection (RFC 2817 §3.3: it is
 * answered over TLS): hop-by-hop fields and those `Connection` names dropped, `close` kept, the
 * body with its own Content-Length.
 */
export function replay (request: IncomingMessage, body: Buffer): Buffer {
  const options = connectionOptions(request)
  const raw = request.rawHeaders
  let head = `${request.method} ${request.url} HTTP/1.1\r\n`
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    if (!HOP_FIELDS.has(name) && !options.includes(name)) head += `${raw[i]}: ${raw[i + 1]}\r\n`
  }
  if (options.includes('close')) head += 'Connection: close\r\n'
  const framed = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined
  if (framed) head += `Content-Length: ${body.length}\r\n`
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body])
}
