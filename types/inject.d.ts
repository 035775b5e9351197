import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'

// The test helpers' types, re-exported by types/index.d.ts.

/** What `injectWS` rejects with when the handshake is answered with another status than 101. */
export interface InjectWSError extends Error {
  code: 'FST_ERR_UPGRADE_UNEXPECTED_RESPONSE'
  /** The status the app answered, e.g. 401 from a hook. */
  statusCode: number
  headers: IncomingHttpHeaders
  body: string
}

export interface InjectUpgradeOptions {
  /** The `Upgrade` header, sent with `Connection: upgrade`; none when absent. */
  upgrade?: string
  /** Default `'GET'`. */
  method?: string
  /** More header fields; they replace the defaults of the same name. */
  headers?: OutgoingHttpHeaders
  /** A request body, sent with its `Content-Length`. */
  body?: string | Buffer
}

export interface InjectUpgradeResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  /** On a 101: the client's end of the connection, what the app sent after the 101 readable on it; `null` otherwise. */
  socket: Duplex | null
  /** The body of an answer other than 101, as UTF-8 text; empty on a 101. */
  body: string
  rawPayload: Buffer
}
