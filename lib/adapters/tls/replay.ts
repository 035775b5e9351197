import type { IncomingMessage } from 'node:http'
import { forEachEndToEndField, hasConnectionOption } from '../../kit/index'

// The replay gets a fresh Content-Length for the body, which is no longer chunked.
const FRAMING_FIELDS = new Set(['content-length', 'trailer'])

/**
 * The original request as Node's parser reads it on the TLS connection (RFC 2817 §3.3: it is
 * answered over TLS): the upgrade hop's own fields dropped, `close` kept, the body with its own
 * Content-Length.
 */
export function replay (request: IncomingMessage, body: Buffer): Buffer {
  let head = `${request.method} ${request.url} HTTP/1.1\r\n`
  forEachEndToEndField(request, FRAMING_FIELDS, (name, _lower, value) => { head += `${name}: ${value}\r\n` })
  if (hasConnectionOption(request.headers.connection, 'close')) head += 'Connection: close\r\n'
  const framed = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined
  if (framed) head += `Content-Length: ${body.length}\r\n`
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), body])
}
