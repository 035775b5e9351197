// SETTINGS parameters whose values RFC 9113 §6.5.2 bounds; others are taken as sent (unknown ones are ignored by the peer).
const ENABLE_PUSH = 0x2
const INITIAL_WINDOW_SIZE = 0x4
const MAX_FRAME_SIZE = 0x5
const ENABLE_CONNECT_PROTOCOL = 0x8

const BASE64URL = /^[A-Za-z0-9_-]*$/

function inRange (id: number, value: number): boolean {
  switch (id) {
    case ENABLE_PUSH:
    case ENABLE_CONNECT_PROTOCOL:
      return value <= 1
    case INITIAL_WINDOW_SIZE:
      return value <= 0x7fffffff
    case MAX_FRAME_SIZE:
      return value >= 16384 && value <= 0xffffff
    default:
      return true
  }
}

/**
 * The SETTINGS payload an `HTTP2-Settings` value carries (RFC 7540 §3.2.1: base64url without
 * padding), or `undefined` when it is not one with valid values (H1).
 */
export function decodeSettings (value: string): Buffer | undefined {
  if (!BASE64URL.test(value) || value.length % 4 === 1) return undefined
  const payload = Buffer.from(value, 'base64url')
  if (payload.length % 6 !== 0) return undefined
  for (let i = 0; i < payload.length; i += 6) {
    if (!inRange(payload.readUInt16BE(i), payload.readUInt32BE(i + 2))) return undefined
  }
  return payload
}
