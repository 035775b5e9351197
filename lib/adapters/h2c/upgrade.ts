import type { IncomingMessage } from 'node:http'
import { forEachEndToEndField } from '../../kit/index'
import { HEADER, MAX_FRAME, PREFACE, SETTINGS, frame } from './frames'

// RFC 9113 §8.2.2: Host becomes :authority; HTTP2-Settings belongs to the upgrade.
const NOT_HTTP2_FIELDS = new Set(['host', 'http2-settings'])

/** The HTTP/2 field list of an HTTP/1.1 request, connection-specific fields removed (U11). */
export function requestFields (request: IncomingMessage): Array<[string, string]> {
  const fields: Array<[string, string]> = [[':method', request.method as string], [':scheme', 'http']]
  if (request.headers.host !== undefined) fields.push([':authority', request.headers.host])
  fields.push([':path', request.url as string])
  forEachEndToEndField(request, NOT_HTTP2_FIELDS, (_name, lower, value) => {
    if (lower !== 'te' || value.toLowerCase() === 'trailers') fields.push([lower, value])
  })
  return fields
}

/**
 * Whether the bytes so far are the client's preface and a whole first SETTINGS frame (RFC 9113
 * §3.4): `undefined` while more is needed, false when they cannot be or the merged frame would be too large.
 */
export function clientStart (extra: number): (bytes: Buffer) => boolean | undefined {
  return (bytes) => {
    const n = Math.min(bytes.length, PREFACE.length)
    if (bytes.compare(PREFACE, 0, n, 0, n) !== 0) return false
    if (bytes.length < PREFACE.length + HEADER) return undefined
    const length = bytes.readUIntBE(PREFACE.length, 3)
    if (bytes[PREFACE.length + 3] !== SETTINGS || bytes[PREFACE.length + 4] !== 0 ||
      bytes.readUInt32BE(PREFACE.length + 5) !== 0 || length + extra > MAX_FRAME) return false
    return bytes.length < PREFACE.length + HEADER + length ? undefined : true
  }
}

/**
 * What the http2 session reads instead of the client's first bytes: the preface, one SETTINGS
 * frame with the HTTP2-Settings values before the client's own (so one ACK answers both, and
 * the client's frame wins where they differ), the upgraded request as stream 1, then the rest.
 */
export function rewrite (bytes: Buffer, settings: Buffer, streamOne: Buffer[]): Buffer {
  const start = PREFACE.length + HEADER
  const end = start + bytes.readUIntBE(PREFACE.length, 3)
  return Buffer.concat([
    PREFACE,
    frame(SETTINGS, 0, 0, Buffer.concat([settings, bytes.subarray(start, end)])),
    ...streamOne,
    bytes.subarray(end)
  ])
}
