import { request, type IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import WebSocket from 'ws'
import type { InjectUpgradeOptions, InjectUpgradeResponse, InjectWSError } from '../../types/index'
import { FST_ERR_UPGRADE_UNEXPECTED_RESPONSE } from '../errors'
import { connectInMemory, claimMember, rewind } from '../node/index'

const EMPTY = Buffer.alloc(0)

type Opened = Awaited<ReturnType<FastifyInstance['injectWS']>>

async function readAll (res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/**
 * Sends one request to the app over a connection held in memory, through Node's own parser and
 * the plugin's whole request path: hooks, negotiation, the adapter. On a 101 the client's end of
 * the connection is the caller's.
 */
export async function injectUpgrade (this: FastifyInstance, path: string, options: InjectUpgradeOptions = {}): Promise<InjectUpgradeResponse> {
  await this.ready()
  const { upgrade, method = 'GET', headers, body } = options
  const socket = connectInMemory(this.server)
  return await new Promise((resolve, reject) => {
    const req = request({
      host: 'localhost',
      path,
      method,
      // Node's client sends a body given to end() with its Content-Length.
      headers: { ...(upgrade === undefined ? {} : { connection: 'upgrade', upgrade }), ...headers },
      createConnection: () => socket
    })
    req.on('error', reject)
    req.on('upgrade', (res: IncomingMessage, upgraded: typeof socket, head: Buffer) => {
      rewind(upgraded, head)
      resolve({ statusCode: 101, headers: res.headers, socket: upgraded, body: '', rawPayload: EMPTY })
    })
    req.on('response', (res: IncomingMessage) => {
      readAll(res).then((rawPayload) => {
        // Nothing else is sent on it: it closes, as a client closes a connection it is done with.
        socket.destroy()
        resolve({ statusCode: res.statusCode as number, headers: res.headers, socket: null, body: rawPayload.toString(), rawPayload })
      }, reject)
    })
    req.end(body)
  })
}

/**
 * Opens a WebSocket to the app over a connection held in memory, as @fastify/websocket's
 * `injectWS` does, but through the real request path: Node's parser, hooks, negotiation, the
 * adapter, so it serves the routes of both plugins. An answer other than 101 rejects.
 */
export const injectWS: FastifyInstance['injectWS'] = async function injectWS (this: FastifyInstance, path = '/', context = {}, options = {}) {
  await this.ready()
  const { onInit, onOpen, protocols, ...clientOptions } = options
  const socket = connectInMemory(this.server)
  const ws = new WebSocket(`ws://localhost${path}`, protocols, {
    ...clientOptions,
    headers: { ...context.headers, ...clientOptions.headers },
    createConnection: () => socket
  })
  onInit?.(ws)
  return await new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('open', () => {
      ws.removeListener('error', reject)
      onOpen?.(ws)
      // The same class, named as @fastify/websocket's declaration names it (types/index.d.ts).
      resolve(ws as unknown as Opened)
    })
    ws.on('unexpected-response', (_req, res) => {
      readAll(res).then((rawPayload) => {
        const error = new FST_ERR_UPGRADE_UNEXPECTED_RESPONSE(res.statusCode) as InjectWSError
        error.statusCode = res.statusCode as number
        error.headers = res.headers
        error.body = rawPayload.toString()
        reject(error)
        ws.terminate()
      }, reject)
    })
  })
}

/**
 * `injectWS` from the plugin's registration on, like `inject`. @fastify/websocket, registered
 * before or after, decorates the same name: this one, which serves both plugins' routes, stays.
 */
export function claimInjectWS (fastify: FastifyInstance): void {
  claimMember(fastify, 'injectWS', injectWS)
}
