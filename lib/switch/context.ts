import type { Socket } from 'node:net'
import type { SwitchedContext } from '../../types/index'
import { endWhenIdle, serve, serverOf } from '../node/index'
import type { Upgrader } from '../upgrader'
import type { Lifecycle } from './accept'
import { peek } from './peek'

/** What every switched HTTP/1.1 connection's context has, a route's or `OPTIONS *`'s. */
export function switchedContext (upgrader: Upgrader, life: Lifecycle, token: string): SwitchedContext {
  const socket = life.connection as Socket
  const { handshakeTimeout } = upgrader.settings
  return {
    socket,
    token,
    handshakeTimeout,
    onServerClose: life.onServerClose,
    reportClose: life.reportClose,
    serve (next, options = {}) {
      if (options.server !== undefined) {
        upgrader.onServe(options.server)
        serve(options.server, next, options.head)
        return
      }
      // HTTP/1.1 goes on over `next` (TLS): Node's HTTP server serves it, and it ends once idle on close.
      serve(serverOf(socket), next, options.head)
      life.onServerClose(() => { endWhenIdle(next) })
    },
    peek (decide, done) {
      // S7: what the adapter does with the bytes runs in a socket event, where a throw would end the process.
      peek(socket, upgrader.deadlines, decide, (answer, bytes) => {
        try {
          done(answer, bytes)
        } catch (error) {
          life.fail(error)
        }
      })
    }
  }
}
