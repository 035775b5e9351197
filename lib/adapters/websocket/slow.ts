import { channel } from 'node:diagnostics_channel'
import type { SlowClientCounts, WebSocketOptions } from '../../../types/index'
import { FST_ERR_UPGRADE_WEBSOCKET_SLOW, type SendGuard } from '../../kit/index'
import { closeSlow } from './serve'

// The message fields are documented in docs/operations.md.
const slowChannel = channel('fastify-upgrade.slow-client')

/**
 * S8, the guard against clients that do not keep up (`maxBufferedAmount`, `slowClient`): a message sent
 * while more than `limit` bytes still wait for the client is skipped, or closes the WebSocket with
 * the policy's code. A WebSocket once closed is not counted again: ws refuses its sends itself.
 */
export function slowClientGuard (limit: number, policy: NonNullable<WebSocketOptions['slowClient']>, counts: SlowClientCounts): SendGuard | undefined {
  if (limit === 0) return undefined
  const failure = policy === 'skip' ? undefined : { code: policy, reason: 'client too slow' }
  return {
    limit,
    refuse (socket, bufferedAmount, callback) {
      if (failure === undefined) {
        counts.skipped++
      } else {
        counts.closed++
        closeSlow(socket, failure)
      }
      if (slowChannel.hasSubscribers) slowChannel.publish({ websocket: socket, policy, bufferedAmount, limit })
      // As ws does for a message sent after close: the callback learns it was not sent, later.
      if (callback !== undefined) process.nextTick(callback, new FST_ERR_UPGRADE_WEBSOCKET_SLOW(bufferedAmount, limit))
    }
  }
}
