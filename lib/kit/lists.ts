import type { IncomingMessage } from 'node:http'

// Bounds the work a hostile header can cause: Node caps the header block at 16 KiB, which
// could still hold thousands of list elements; no real client offers more than a handful.
const MAX_ELEMENTS = 32

const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1
}

/** Whether `value` (or its part from `start` to `end`) is an RFC 9110 token. */
export function isToken (value: string, start = 0, end = value.length): boolean {
  if (start === end) return false
  for (let i = start; i < end; i++) {
    const code = value.charCodeAt(i)
    if (code > 127 || TCHAR[code] === 0) return false
  }
  return true
}

function isOws (code: number): boolean {
  return code === 32 || code === 9
}

/**
 * Calls `each(value, start, end, arg)` for the non-empty elements of an RFC 9110 list (#element),
 * OWS trimmed, until it returns true; answers whether one did. `each` is a module function given
 * its state in `arg`, so that walking a list allocates nothing on the path of every request.
 */
function someElement<T> (value: string, each: (value: string, start: number, end: number, arg: T) => boolean, arg: T): boolean {
  let count = 0
  let start = 0
  while (start <= value.length && count < MAX_ELEMENTS) {
    let end = value.indexOf(',', start)
    if (end === -1) end = value.length
    let a = start
    let b = end
    while (a < b && isOws(value.charCodeAt(a))) a++
    while (b > a && isOws(value.charCodeAt(b - 1))) b--
    if (a < b) {
      if (each(value, a, b, arg)) return true
      count++
    }
    start = end + 1
  }
  return false
}

/**
 * The comparison key of `protocol-name ["/" protocol-version]`: names compare
 * case-insensitively, versions exactly (U1). `undefined` when it is not that grammar.
 */
export function protocolKey (protocol: string, start = 0, end = protocol.length): string | undefined {
  const slash = protocol.indexOf('/', start)
  if (slash === -1 || slash >= end) {
    return isToken(protocol, start, end) ? protocol.slice(start, end).toLowerCase() : undefined
  }
  if (!isToken(protocol, start, slash) || !isToken(protocol, slash + 1, end)) return undefined
  return protocol.slice(start, slash).toLowerCase() + protocol.slice(slash, end)
}

export interface Offer {
  /** The protocol as the client sent it. */
  token: string
  key: string
}

function addOffer (value: string, start: number, end: number, offers: Offer[]): boolean {
  const key = protocolKey(value, start, end)
  if (key !== undefined) offers.push({ token: value.slice(start, end), key })
  return false
}

/** The client's `Upgrade` list, in its order; invalid elements are skipped. */
export function parseUpgrade (value: string | undefined): Offer[] {
  const offers: Offer[] = []
  if (value !== undefined) someElement(value, addOffer, offers)
  return offers
}

function isOption (value: string, start: number, end: number, option: string): boolean {
  if (end - start !== option.length) return false
  for (let i = 0; i < option.length; i++) {
    const code = value.charCodeAt(start + i)
    // `option` is lower case: an upper-case ASCII letter is compared as its lower case.
    if ((code >= 65 && code <= 90 ? code + 32 : code) !== option.charCodeAt(i)) return false
  }
  return true
}

/** Whether a `Connection` list names `option` (lower case), in any case (U2). */
export function hasConnectionOption (value: string | undefined, option: string): boolean {
  return value !== undefined && someElement(value, isOption, option)
}

// Fields about the connection that carried an upgrade request, not about the request (RFC 9110
// §7.6.1): they do not go on over the new protocol. Expect was answered before the 101.
const HOP_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'expect'])

/**
 * Calls `each(name as sent, lower-case name, value)` for the request's fields that go on over the
 * protocol it switches to: not the hop's own, nor those its Connection names, nor those in `also`.
 */
export function forEachEndToEndField (request: IncomingMessage, also: ReadonlySet<string>, each: (name: string, lower: string, value: string) => void): void {
  const { headers, rawHeaders } = request
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i].toLowerCase()
    if (!HOP_FIELDS.has(lower) && !also.has(lower) && !hasConnectionOption(headers.connection, lower)) each(rawHeaders[i], lower, rawHeaders[i + 1])
  }
}
