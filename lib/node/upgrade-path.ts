import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { FST_ERR_UPGRADE_BAD_REQUEST } from '../errors'
import { guardErrors } from './connection'
import { nodeBody } from './node-body'
import { preFilter } from './pre-filter'
import { node } from './probe'
import { rawBody } from './raw-body'
import { hasBody, NoBody, UpgradeRequest, type RequestBody } from './upgrade-request'

/** Opens the body of a request that left Node's path: `keep` bytes of it are kept for `rawBody()`. */
export type OpenBody = (keep: number) => RequestBody

export interface UpgradeListener {
  /** Another plugin's listener took the request, with Node's own arguments; the plugin leaves it alone. */
  foreign (req: IncomingMessage, socket: Duplex, head: Buffer): boolean
  /** A request on the upgrade path: `open` must be called before this returns. */
  upgrade (req: IncomingMessage, socket: Socket, open: OpenBody): void
}

/** Where this Node leaves the body of an upgrade request: raw after the head, or read by Node itself. */
/* c8 ignore next: one of them runs on a given Node line */
const body = node.readsBodies ? nodeBody : rawBody

/**
 * RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked has no length that can
 * be read; Node 26 takes its body as empty, which would hand its bytes to the new protocol (S7).
 */
function unframed (req: IncomingMessage): boolean {
  const coding = req.headers['transfer-encoding']
  return coding !== undefined && !/(?:^|,)[ \t]*chunked[ \t]*$/i.test(coding)
}

/** Listens to Node's `'upgrade'` event of `server`; the listener gets every request flagged as an upgrade there. */
export function onUpgrade (server: Server, listener: UpgradeListener): void {
  server.on('upgrade', (req: IncomingMessage, given: Duplex, head: Buffer) => {
    if (listener.foreign(req, given, head)) return
    const socket = req.socket as Socket
    // First of all: what Node 26 wraps around the socket comes off before anyone listens to it.
    const read = hasBody(req.headers) ? body(req, given, head) : undefined
    guardErrors(socket)
    // The request on whatever Node left of it: the socket itself, and a body that really delivers the body.
    listener.upgrade(req, socket, (keep) => {
      if (read === undefined) return new NoBody(req, head)
      const request = new UpgradeRequest(req, socket, keep)
      if (unframed(req)) request.fail(new FST_ERR_UPGRADE_BAD_REQUEST('Transfer-Encoding must end in chunked'))
      else read(request)
      return request
    })
  })
}

/**
 * Keeps the requests that `wants` does not want on Node's own path (body, 100-continue,
 * keep-alive), where this Node lets the server choose, and can do so without losing bytes.
 */
/* c8 ignore next: Node asks on some lines only */
export const keepOnNodePath: (server: Server, wants: (req: IncomingMessage) => boolean) => void = node.filters ? preFilter : () => {}
