// The kit for adapter authors (`fastify-upgrade/kit`): what the built-in adapters use of the
// plugin, and nothing else, so a third-party adapter can do whatever they do.
export {
  FST_ERR_UPGRADE_BAD_REQUEST,
  FST_ERR_UPGRADE_FORBIDDEN_ORIGIN,
  FST_ERR_UPGRADE_HANDLER,
  FST_ERR_UPGRADE_OPTIONS,
  FST_ERR_UPGRADE_WEBSOCKET_SLOW,
  FST_ERR_UPGRADE_WEBSOCKET_VERSION
} from '../errors'
export { clearIdleTimer, continueRequest, WebSocketOpener, type Deflate, type SendGuard } from '../node/index'
export { forEachEndToEndField, hasConnectionOption, isToken, parseUpgrade, protocolKey, type Offer } from './lists'
export { checkOptions, is, type OptionCheck } from './options'
export { cameThroughProxy, proxyPolicy } from './proxy'
