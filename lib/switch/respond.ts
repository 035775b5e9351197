import { STATUS_CODES, validateHeaderName, validateHeaderValue, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import type { FastifyBaseLogger, FastifyError } from 'fastify'
import type { CheckResult } from '../../types/index'
import { FST_ERR_UPGRADE_RESPONSE } from '../errors'
import { answeredError } from '../registry/observe'

/** Fields of the hop the plugin writes itself: an adapter's fields never name them (S2). */
const HOP = new Set(['connection', 'upgrade'])

/**
 * The one refusal writer where no Fastify reply is involved (`OPTIONS *`, an extended CONNECT
 * before routing): the status and JSON body Fastify's own error handler would send, and its log
 * line on `log` (`undefined`: the request's lines are not logged).
 */
export function writeError (res: ServerResponse | Http2ServerResponse, error: FastifyError, headers: OutgoingHttpHeaders, log: FastifyBaseLogger | undefined): void {
  const statusCode = error.statusCode ?? 500
  answeredError(log, statusCode, error)
  const body = JSON.stringify({ statusCode, code: error.code, error: STATUS_CODES[statusCode], message: error.message })
  res.writeHead(statusCode, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** An adapter's field, checked as Node checks a response's: never a CRLF, never a name that is not a token; its name in lower case. */
function checkField (adapter: string, name: string, value: string): string {
  try {
    validateHeaderName(name)
    validateHeaderValue(name, value)
  } catch (error) {
    throw new FST_ERR_UPGRADE_RESPONSE(adapter, (error as Error).message)
  }
  return name.toLowerCase()
}

/**
 * The one writer of a 101 (S2, U5): `Upgrade` names the chosen token, or what the adapter's
 * `upgrade` field says instead (a layer-ascending list), `Connection: upgrade`, then the
 * adapter's fields. Built before the switch, so that a field that cannot be sent refuses the
 * upgrade with an error instead of reaching the client.
 */
export function switchingProtocols (adapter: string, token: string, fields: CheckResult): string {
  let upgrade = token
  let rest = ''
  if (fields !== undefined && fields !== false) {
    for (const name in fields) {
      const value = fields[name]
      const lower = checkField(adapter, name, value)
      if (lower === 'upgrade') upgrade = value
      else if (HOP.has(lower)) throw new FST_ERR_UPGRADE_RESPONSE(adapter, `${name} is the plugin's to write`)
      else rest += `${name}: ${value}\r\n`
    }
  }
  if (upgrade.trim() === '') throw new FST_ERR_UPGRADE_RESPONSE(adapter, 'a 101 must name the protocol in Upgrade')
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${upgrade}\r\nConnection: upgrade\r\n${rest}\r\n`
}

/** The success of an extended CONNECT (E2): `:status 200` and the adapter's fields, never a hop's (U11). */
export function connectResponse (adapter: string, fields: Exclude<CheckResult, false>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':status': 200 }
  if (fields === undefined) return headers
  for (const name in fields) {
    const lower = checkField(adapter, name, fields[name])
    if (!HOP.has(lower)) headers[lower] = fields[name]
  }
  return headers
}
