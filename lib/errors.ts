import createError from '@fastify/error'

// Every error the plugin throws or answers with, each with a code that names it. A refusal (an
// answer to the client's request, not a fault) has no stack: Fastify logs an error reply with its
// `err`, and the plugin's frames would say nothing about the request.
export const FST_ERR_UPGRADE_OPTIONS = createError('FST_ERR_UPGRADE_OPTIONS', 'fastify-upgrade: %s', 500, TypeError)
export const FST_ERR_UPGRADE_ROUTE = createError('FST_ERR_UPGRADE_ROUTE', '%s %s: %s', 500, TypeError)
export const FST_ERR_UPGRADE_UNSEEN_ROUTE = createError('FST_ERR_UPGRADE_UNSEEN_ROUTE', '%s %s has an upgrade option that fastify-upgrade never saw: %s', 500)
export const FST_ERR_UPGRADE_BAD_REQUEST = createError('FST_ERR_UPGRADE_BAD_REQUEST', '%s', 400, Error, false)
export const FST_ERR_UPGRADE_ABORTED = createError('FST_ERR_UPGRADE_ABORTED', 'The client ended the connection before the request body was complete', 400, Error, false)
export const FST_ERR_UPGRADE_BODY_TOO_LARGE = createError('FST_ERR_UPGRADE_BODY_TOO_LARGE', 'An upgrade request may carry at most %d bytes of body', 413, Error, false)
export const FST_ERR_UPGRADE_REQUIRED = createError('FST_ERR_UPGRADE_REQUIRED', 'This resource is only served after an upgrade to %s', 426, Error, false)
export const FST_ERR_UPGRADE_TOO_MANY = createError('FST_ERR_UPGRADE_TOO_MANY', 'Too many upgraded connections, try again later', 503, Error, false)
// RFC 9220 §3 (RFC 8441's extended CONNECT for HTTP/3, same semantics): an unknown or unsupported `:protocol` gets 501.
export const FST_ERR_UPGRADE_CONNECT_PROTOCOL = createError('FST_ERR_UPGRADE_CONNECT_PROTOCOL', 'Extended CONNECT with :protocol %s is not supported here', 501, Error, false)
export const FST_ERR_UPGRADE_NO_ROUTE = createError('FST_ERR_UPGRADE_NO_ROUTE', 'Route CONNECT:%s not found', 404, Error, false)
export const FST_ERR_UPGRADE_HANDLER = createError('FST_ERR_UPGRADE_HANDLER', 'The %s handler of %s failed')
// S2: an adapter's fields for the 101 (or an extended CONNECT's 200) that cannot be sent as they are.
export const FST_ERR_UPGRADE_RESPONSE = createError('FST_ERR_UPGRADE_RESPONSE', 'The %s adapter answered with fields that cannot be sent: %s')
export const FST_ERR_UPGRADE_WEBSOCKET_VERSION = createError('FST_ERR_UPGRADE_WEBSOCKET_VERSION', 'Unsupported Sec-WebSocket-Version, this server speaks 13', 426, Error, false)
export const FST_ERR_UPGRADE_FORBIDDEN_ORIGIN = createError('FST_ERR_UPGRADE_FORBIDDEN_ORIGIN', 'Origin %s may not open a WebSocket here', 403, Error, false)
// What a WebSocket's send callback gets for a message the slow-client guard did not send.
export const FST_ERR_UPGRADE_WEBSOCKET_SLOW = createError('FST_ERR_UPGRADE_WEBSOCKET_SLOW', 'Not sent: %d bytes were still waiting for this client, more than maxBufferedAmount (%d)')
// What injectWS rejects with when the app answers the handshake with anything but 101, as ws's message says it.
export const FST_ERR_UPGRADE_UNEXPECTED_RESPONSE = createError('FST_ERR_UPGRADE_UNEXPECTED_RESPONSE', 'Unexpected server response: %d')
