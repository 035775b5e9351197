// The types of h2-websocket-client.js, for the tests that use it.
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders, SecureClientSessionOptions } from 'node:http2'

export const TEXT: 0x1
export const BINARY: 0x2
export const CLOSE: 0x8
export const PING: 0x9
export const PONG: 0xa

export interface Frame {
  fin: boolean
  rsv1: boolean
  opcode: number
  payload: Buffer
}

/** One frame, masked as a client sends it unless `mask` is false. */
export function encodeFrame (opcode: number, payload?: Buffer | string, options?: { mask?: boolean, fin?: boolean }): Buffer
/** A close frame's payload: the code and the reason. */
export function closePayload (code: number, reason?: string): Buffer

/** Splits what a server sends into frames. */
export class FrameParser {
  push (chunk: Buffer): Frame[]
}

export interface Closed {
  /** The server's close code, `undefined` when none came (the stream ended or was reset without one). */
  code: number | undefined
  reason: string
  /** The stream's RST_STREAM code (0 when it closed normally). */
  rstCode: number | undefined
}

/** One WebSocket on an HTTP/2 stream. */
export class H2WebSocket {
  readonly stream: ClientHttp2Stream
  readonly headers: IncomingHttpHeaders
  readonly frames: Frame[]
  readonly closed: Promise<Closed>
  write (bytes: Buffer): void
  /** Sends a text (string) or binary (Buffer) message. */
  send (data: string | Buffer): void
  /** Starts the closing handshake; `closed` resolves once the stream has closed. */
  close (code?: number, reason?: string): void
  /** The next data frame the server sent; `undefined` when the stream closed first. */
  next (): Promise<Frame | undefined>
  /** The next text message. */
  text (): Promise<string | undefined>
}

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  /** On a 200: the WebSocket. */
  ws: H2WebSocket | undefined
  /** Otherwise: the body. */
  body: string
}

export interface OpenOptions {
  /** Offered in Sec-WebSocket-Protocol. */
  protocols?: string[]
  /** More header fields; they replace the defaults of the same name. */
  headers?: OutgoingHttpHeaders
  /** The `:protocol` (default `websocket`). */
  protocol?: string
}

/** Sends the extended CONNECT for `path` on `session` and answers what came back (RFC 8441 §4-5). */
export function openWebSocket (session: ClientHttp2Session, path: string, options?: OpenOptions): Promise<Answer>
/** An HTTP/2 session to `url`, once the server's SETTINGS are in. */
export function connectSession (url: string, options?: SecureClientSessionOptions): Promise<ClientHttp2Session>
