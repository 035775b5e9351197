import type { EventEmitter } from 'node:events'
import type { Http2Session } from 'node:http2'

/**
 * Clears the idle timer of a closed HTTP/2 session. Node (20 to 26 at least) clears it with
 * `session.setTimeout(0)` after marking the session destroyed, which `setTimeout` then ignores:
 * the timer stays armed and keeps the session, its socket and its streams in memory until it
 * fires, `sessionTimeout` later (about 2 KB per connection). The timer is Node's own `kTimeout`.
 */
export function clearIdleTimer (session: Http2Session): void {
  const timer = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === 'timeout') as symbol
  clearTimeout((session as unknown as Record<symbol, NodeJS.Timeout | undefined>)[timer])
}

/**
 * Clears the idle timer of each session of `server` once it closes: Fastify's own HTTP/2 servers
 * give every session one (`http2SessionTimeout`), and Node leaves it armed as above.
 */
export function clearIdleTimersOf (server: EventEmitter): void {
  server.on('session', (session: Http2Session) => {
    session.once('close', () => { clearIdleTimer(session) })
  })
}
