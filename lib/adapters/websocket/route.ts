import type { WebSocket } from 'ws'
import type { UpgradeHandler, WebSocketRoute } from '../../../types/index'
import { isToken } from '../../kit/index'

const KEYS = new Set(['handler', 'protocols', 'maxPayload'])

/** Checks a `websocket` route value at startup: a handler or `{ handler, protocols?, maxPayload? }`. */
export function routeProblem (value: unknown): string | undefined {
  if (typeof value === 'function') return undefined
  if (value === null || typeof value !== 'object') return 'must be a handler (socket, request) => {} or { handler, protocols?, maxPayload? }'
  const unknown = Object.keys(value).find((key) => !KEYS.has(key))
  if (unknown !== undefined) return `has an unknown setting "${unknown}" (known: handler, protocols, maxPayload)`
  const { handler, protocols, maxPayload } = value as Record<string, unknown>
  if (typeof handler !== 'function') return 'handler must be a function (socket, request) => {}'
  if (protocols !== undefined && (!Array.isArray(protocols) ||
      !protocols.every((protocol) => typeof protocol === 'string' && isToken(protocol, 0, protocol.length)))) {
    return 'protocols must be an array of subprotocol tokens'
  }
  if (maxPayload !== undefined && !(Number.isSafeInteger(maxPayload) && (maxPayload as number) >= 0)) return 'maxPayload must be an integer ≥ 0'
  return undefined
}

/** The object form of a route value that `routeProblem` accepted. */
export function toRoute (value: UpgradeHandler<WebSocket> | WebSocketRoute): WebSocketRoute {
  return typeof value === 'function' ? { handler: value } : value
}
