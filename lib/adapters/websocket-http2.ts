import type { ServerHttp2Stream } from 'node:http2'

/** What ws's 101 may carry that an RFC 8441 answer keeps (E2): never Upgrade, Connection or Sec-WebSocket-Accept. */
const KEPT = new Set(['sec-websocket-protocol', 'sec-websocket-extensions'])

type Write = (head: string) => boolean

/**
 * Lets ws's `handleUpgrade` run its handshake on an HTTP/2 stream (RFC 8441). ws negotiates the
 * subprotocol and permessage-deflate there exactly as on HTTP/1.1 (its extension code is not
 * exported), then writes its answer in one `write` of a 101 head: that one write becomes
 * `respond()` (`:status 200`) with the negotiated fields, and the stream's own `write` is back for
 * every frame after it, with no stream wrapped around it. ws's other calls on its socket fit a
 * stream: `setTimeout(0)` clears the stream's idle timer, and `setNoDelay`, which a stream lacks,
 * ws calls only where it exists.
 */
export function answerOnStream (stream: ServerHttp2Stream, respond: (headers: Record<string, string>) => void): void {
  const own = stream as unknown as { write: Write | undefined }
  own.write = function handshake (head) {
    delete own.write
    const headers: Record<string, string> = {}
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).toLowerCase()
      if (KEPT.has(name)) headers[name] = line.slice(colon + 1).trim()
    }
    respond(headers)
    return true
  }
}
