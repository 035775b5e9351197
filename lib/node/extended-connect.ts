import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { Socket } from 'node:net'

/** A server of Node's http2 module, as far as extended CONNECT goes. */
export interface Http2Listener extends EventEmitter {
  updateSettings(settings: { enableConnectProtocol: boolean }): void
}

const METHOD_NOT_ALLOWED = 405

/**
 * Takes HTTP/2 CONNECT requests on `server`. Node's compatibility layer emits them as `'connect'`
 * (never `'request'`), and answers 405 itself only while nobody listens: a plain CONNECT (no
 * `:protocol`) gets that same 405 here, unless another `'connect'` listener answers it. With
 * `allowHTTP1`, an HTTP/1.1 CONNECT comes as `'connect'` too, with the socket, which Node destroys
 * while nobody listens: so does this. nghttp2 refuses `:protocol` until the server announced
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3), which new sessions get from here on (E1).
 */
export function takeExtendedConnect (server: Http2Listener, onConnect: (req: Http2ServerRequest, res: Http2ServerResponse, protocol: string) => void): void {
  server.on('connect', (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | Socket) => {
    const protocol = req.headers[':protocol']
    if (req.httpVersionMajor === 2 && typeof protocol === 'string') {
      onConnect(req as Http2ServerRequest, res as Http2ServerResponse, protocol)
      return
    }
    // What Node does while nobody listens, unless another listener answers.
    if (server.listenerCount('connect') > 1) return
    if (req.httpVersionMajor === 2) {
      (res as Http2ServerResponse).statusCode = METHOD_NOT_ALLOWED;
      (res as Http2ServerResponse).end()
    } else {
      (res as Socket).destroy()
    }
  })
  server.updateSettings({ enableConnectProtocol: true })
}

/**
 * Presents an extended CONNECT to Fastify's router as the GET its route is declared with. Only
 * the request's own `method` changes: `headers[':method']` still says CONNECT.
 */
export function presentAsGet (req: Http2ServerRequest): void {
  Object.defineProperty(req, 'method', { value: 'GET', configurable: true, enumerable: true })
}
