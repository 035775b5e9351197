import { Server, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { PassThrough } from 'node:stream'

export type ShouldUpgrade = (this: Server, req: IncomingMessage) => boolean
type Parser = Record<string, unknown> & { getCurrentBuffer?: () => Buffer }

// One upgrade request with a one-byte body, then one byte of the new protocol.
const PROBE = Buffer.from('POST / HTTP/1.1\r\nHost: probe\r\nConnection: upgrade\r\nUpgrade: probe\r\nContent-Length: 1\r\n\r\nbn', 'latin1')

export interface NodeUpgradePath {
  /** Node reads the body of an upgrade request itself (Node 26, nodejs/node#60016); before, it left it raw after the head. */
  readsBodies: boolean
  /**
   * Node asks `server.shouldUpgradeCallback` whether a request leaves its normal path (≥ 22.21,
   * ≥ 24.9), and while it asks shows the bytes it is parsing, which it would drop (see pre-filter.ts).
   */
  filters: boolean
  /**
   * The parser's slot for what Node runs after each read it parsed straight from the socket, with
   * how far it parsed; `undefined` when not found (pre-filter.ts then looks at the bytes every time).
   */
  onExecute: number | undefined
  /** The source of Node's default `shouldUpgradeCallback`, to tell a user's own from it. */
  defaultShouldUpgrade: string
}

/**
 * What this Node does on its upgrade path, found by showing a server one request in memory when
 * the module loads (no socket, no timer): feature detection, never version numbers.
 */
function probe (): NodeUpgradePath {
  const server = new Server() as Server & { shouldUpgradeCallback?: ShouldUpgrade }
  const defaultShouldUpgrade = String(server.shouldUpgradeCallback)
  let filters = false
  let onExecute: number | undefined
  let readsBodies = false
  /* c8 ignore start: Node asks on some lines only */
  server.shouldUpgradeCallback = (req) => {
    const parser = (req.socket as Socket & { parser: Parser }).parser
    filters = typeof parser.getCurrentBuffer === 'function'
    const slot = Object.keys(parser).find((key) => (parser[key] as { name?: string } | null)?.name === 'bound onParserExecute')
    if (slot !== undefined) onExecute = Number(slot)
    return true
  }
  /* c8 ignore stop */
  // Node ≤ 24 leaves the body raw after the head; Node 26 reads it into the request.
  server.on('upgrade', (_req, _socket, head: Buffer) => { readsBodies = head.length === 1 })
  const connection = new PassThrough()
  server.emit('connection', connection)
  connection.emit('data', PROBE)
  connection.destroy()
  return { readsBodies, filters, onExecute, defaultShouldUpgrade }
}

export const node = probe()

/** The `shouldUpgradeCallback` a user gave the server, if any: not Node's default, which wants every request once anyone listens. */
export function ownShouldUpgrade (server: Server): ShouldUpgrade | undefined {
  const callback = (server as Server & { shouldUpgradeCallback?: ShouldUpgrade }).shouldUpgradeCallback
  return typeof callback === 'function' && String(callback) !== node.defaultShouldUpgrade ? callback : undefined
}
