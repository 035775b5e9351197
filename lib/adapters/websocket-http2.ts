import type { ServerHttp2Stream } from 'node:http2'

/** What ws's 101 may carry that an RFC 8441 answer keeps (E2): never Upgrade, Connection or Sec-WebSocket-Accept. */
const KEPT = new Set(['sec-websocket-protocol', 'sec-websocket-extensions'])

interface Answering {
  write?: (head: string) => boolean
  end?: (head: string) => ServerHttp2Stream
}

/**
 * Lets ws's `handleUpgrade` run its handshake on an HTTP/2 stream (RFC 8441). ws negotiates the
 * subprotocol and permessage-deflate there exactly as on HTTP/1.1 (its extension code is not
 * exported), then writes its answer as an HTTP/1.1 head: a 101 in one `write`, which becomes
 * `respond()` (`:status 200`) with the negotiated fields, or a refusal in one `end` (a 503 once
 * its server closed), which becomes that status. Then the stream's own `write` and `end` are back
 * for every frame, with no stream wrapped around it. ws's other calls on its socket fit a stream:
 * `setTimeout(0)` clears the stream's idle timer, and `setNoDelay`, which a stream lacks, ws calls
 * only where it exists.
 */
export function answerOnStream (stream: ServerHttp2Stream, respond: (headers: Record<string, string>) => void): void {
  const own = stream as unknown as Answering
  const restore = (): void => {
    delete own.write
    delete own.end
  }
  own.write = function handshake (head) {
    restore()
    const headers: Record<string, string> = {}
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).toLowerCase()
      if (KEPT.has(name)) headers[name] = line.slice(colon + 1).trim()
    }
    respond(headers)
    return true
  }
  own.end = function refuse (head) {
    restore()
    // ws destroys its socket once the answer is written; a stream destroyed then loses its HEADERS
    // on Node 26, and closes by itself once answered.
    stream.removeListener('finish', stream.destroy)
    // `HTTP/1.1 503 Service Unavailable`: the status is the second word.
    stream.respond({ ':status': Number(head.split(' ', 2)[1]) }, { endStream: true })
    return stream
  }
}
