import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { BodyReader, UpgradeRequest } from './upgrade-request'

type UpgradeStream = Duplex & { requestBodyCompleted?: (head: Buffer) => void }

/** The end of a body Node is still reading: what follows it, once known. */
interface BodyEnd {
  head?: Buffer
}

/**
 * Node 26 (nodejs/node#60016) parses an upgrade request's body itself. When the body is still
 * arriving, Node wraps the socket in an UpgradeStream that takes the bytes after the body once it
 * ends. The engine hands over the socket itself, so the wrapper comes off first thing in the
 * 'upgrade' event: its three listeners on the socket (added just before the event, so the last of
 * each; its 'error' relay would crash the process with nobody listening), and the bytes after the
 * body are taken as Node offers them. The socket's marker goes too: Node ignores a later upgrade
 * with a body on a connection that still has one, and a connection handed back to HTTP may carry one.
 */
function unwrap (stream: Duplex, socket: Socket): BodyEnd {
  for (const event of ['error', 'close', 'end']) {
    const listeners = socket.listeners(event)
    socket.removeListener(event, listeners[listeners.length - 1] as (...args: unknown[]) => void)
  }
  // Node's HTTP server still ends the connection when the client ends its side mid-body, before
  // the plugin's 400 for the cut-short body could go out: the plugin's exchange answers, then ends it.
  const onEnd = socket.listeners('end').find((listener) => listener.name === 'bound socketOnEnd')
  if (onEnd !== undefined) socket.removeListener('end', onEnd as (...args: unknown[]) => void)
  const end: BodyEnd = {}
  ;(stream as UpgradeStream).requestBodyCompleted = (head) => {
    // Node stops reading for its parser and leaves the socket flowing: nothing may be lost.
    socket.pause()
    const marker = Object.getOwnPropertySymbols(socket).find((symbol) => socket[symbol as never] === stream)
    if (marker !== undefined) Reflect.deleteProperty(socket, marker)
    end.head = head
  }
  return end
}

/** Relays the body Node's parser reads into `req`; `end` is there when it had not all arrived with the head. */
function relay (request: UpgradeRequest, req: IncomingMessage, socket: Socket, end: BodyEnd | undefined, head: Buffer): void {
  const arriving = (): boolean => end !== undefined && end.head === undefined
  const onData = (chunk: Buffer): void => { request.receive(chunk) }
  const onEnd = (): void => { request.end(end?.head ?? head) }
  const reader: BodyReader = {
    resume () {
      req.resume()
      // Node's parser reads the rest of the body from the socket, which it left paused for a reader.
      if (arriving()) socket.resume()
    },
    pause () {
      req.pause()
    },
    stop () {
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.pause()
    }
  }
  request.readFrom(reader)
  req.on('data', onData)
  req.on('end', onEnd)
  if (arriving()) socket.resume()
}

/**
 * Node 26: the body is read into `req`. `given` is what the 'upgrade' event gave as the socket:
 * the socket itself when the body had all arrived (then `head` is what follows it), or else a
 * wrapper, which comes off now.
 */
export function nodeBody (req: IncomingMessage, given: Duplex, head: Buffer): (request: UpgradeRequest) => void {
  const socket = req.socket as Socket
  const end = given === socket ? undefined : unwrap(given, socket)
  return (request) => { relay(request, req, socket, end, head) }
}
