import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import { ownShouldUpgrade, type ShouldUpgrade } from './probe'
import { hasBody } from './upgrade-request'

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')

/**
 * Whether nothing follows the head of `req` in the bytes Node's parser is reading now. Node ≥ 22.21
 * drops those bytes (a pipelined request) when a request flagged as an upgrade stays on its
 * normal path. Not knowing counts as something.
 */
function nothingFollows (req: IncomingMessage): boolean {
  if (hasBody(req.headers)) return false
  const bytes = (req.socket as Socket & { parser: { getCurrentBuffer: () => Buffer } }).parser.getCurrentBuffer()
  // The first end of a head in these bytes must be this request's, at their very end.
  const end = bytes.indexOf(HEAD_END)
  return end !== -1 && end + 4 === bytes.length
}

/**
 * Where Node asks each request flagged as an upgrade whether it leaves its normal path (`node.filters`),
 * only those `wants` might switch do, so that the others keep Node's fast path: unless bytes follow
 * the request that Node would drop. The user's own callback, if any, is heard too.
 */
export function preFilter (server: Server, wants: (req: IncomingMessage) => boolean): void {
  const own = ownShouldUpgrade(server)
  ;(server as Server & { shouldUpgradeCallback: ShouldUpgrade }).shouldUpgradeCallback = function shouldUpgrade (req) {
    return wants(req) || Boolean(own?.call(this, req)) || !nothingFollows(req)
  }
}
