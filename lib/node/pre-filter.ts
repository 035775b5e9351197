import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import { node, ownShouldUpgrade, type ShouldUpgrade } from './probe'
import { hasBody } from './upgrade-request'

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')
const EMPTY = Buffer.alloc(0)

type OnExecute = (parsed: number) => void
interface Parser {
  socket: Connection
  /** Node's parser reads the socket straight from its handle, not through `'data'` events. */
  _consumed: boolean
  getCurrentBuffer: () => Buffer
  [slot: number]: OnExecute
}
type Connection = Socket & { parser: Parser, _paused: boolean }

/**
 * Of a connection whose parser reads straight from its handle: the `bytesRead` up to which the
 * parser has parsed everything (-1: not known), and Node's own `onExecute` while ours stands in.
 */
interface Parsed { upTo: number, onExecute: OnExecute }
const connections = new WeakMap<Socket, Parsed>()
const slot = node.onExecute as number

/**
 * Runs in Node's place after a read that held a request kept on Node's path (`parsed`: how many
 * of its bytes Node parsed, up to that request's end), and feeds Node again what it dropped.
 */
function afterRead (this: Parser, parsed: number): void {
  const socket = this.socket
  const known = connections.get(socket) as Parsed
  this[slot] = known.onExecute
  const read = socket.bytesRead
  // `parsed` ≤ this read's length ≤ `read - upTo`: equal, nothing followed the request.
  const rest = parsed === read - known.upTo ? EMPTY : this.getCurrentBuffer().subarray(parsed)
  known.upTo = rest.length === 0 ? read : -1
  known.onExecute(parsed)
  if (rest.length === 0) return
  // As Node reads a socket whose handle it cannot take: through 'data', once it is not paused.
  if (socket._paused) socket.unshift(rest)
  else socket.emit('data', rest)
}

/**
 * Whether `req` can stay on Node's path, where Node ≥ 22.21 drops what follows the request in the
 * read under parse (a pipelined request) once it ends. Where Node reads the socket into its parser
 * and how far it had parsed is known, `afterRead` gives those bytes back; otherwise they must be
 * none: the bytes under parse (a copy) must end with the request's head.
 */
function staysWhole (req: IncomingMessage): boolean {
  // The drop would come at the body's end, in a read still to come.
  if (hasBody(req.headers)) return false
  const socket = req.socket as Connection
  const parser = socket.parser
  const known = connections.get(socket)
  if (known !== undefined && known.upTo >= 0 && parser._consumed) {
    parser[slot] = afterRead
    return true
  }
  const bytes = parser.getCurrentBuffer()
  // The first end of a head in these bytes must be this request's, at their very end.
  const end = bytes.indexOf(HEAD_END)
  if (end === -1 || end + 4 !== bytes.length) return false
  // Every byte read so far is parsed once this request is.
  if (parser._consumed && node.onExecute !== undefined) {
    if (known === undefined) connections.set(socket, { upTo: socket.bytesRead, onExecute: parser[slot] })
    else known.upTo = socket.bytesRead
  }
  return true
}

/**
 * Where Node asks each request flagged as an upgrade whether it leaves its normal path (`node.filters`),
 * only those `wants` might switch do, so that the others keep Node's fast path: unless bytes follow
 * the request that Node would drop. The user's own callback, if any, is heard too.
 */
export function preFilter (server: Server, wants: (req: IncomingMessage) => boolean): void {
  const own = ownShouldUpgrade(server)
  ;(server as Server & { shouldUpgradeCallback: ShouldUpgrade }).shouldUpgradeCallback = function shouldUpgrade (req) {
    return wants(req) || Boolean(own?.call(this, req)) || !staysWhole(req)
  }
}
