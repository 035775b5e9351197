import type { Socket } from 'node:net'
import { kPeek } from '../symbols'
import type { Deadlines, Expiring } from './deadlines'

const EMPTY = Buffer.alloc(0)

/** Decides on the bytes read so far: an answer, or `undefined` while too few to tell. */
export type Decide<T> = (bytes: Buffer) => T | undefined
/** Gets the answer (`undefined`: the connection ended, or its deadline passed) and the bytes read. */
export type Done<T> = (answer: T | undefined, bytes: Buffer, socket: Socket) => void

type Peeked = Socket & { [kPeek]?: Peek<unknown> }

// Shared by every peek: Node calls them with the socket as `this`.
function onData (this: Peeked, chunk: Buffer): void {
  const peek = this[kPeek] as Peek<unknown>
  peek.bytes = peek.bytes.length === 0 ? chunk : Buffer.concat([peek.bytes, chunk])
  const answer = peek.decide(peek.bytes)
  if (answer !== undefined) peek.finish(answer)
}

function onEnd (this: Peeked): void {
  (this[kPeek] as Peek<unknown>).finish(undefined)
}

class Peek<T> implements Expiring {
  bytes: Buffer = EMPTY
  deadline = 0
  previous: Expiring | undefined = undefined
  next: Expiring | undefined = undefined

  constructor (readonly socket: Peeked, private readonly deadlines: Deadlines, readonly decide: Decide<T>, private readonly done: Done<T>) {}

  expire (): void {
    this.finish(undefined)
  }

  finish (answer: T | undefined): void {
    const { socket } = this
    this.deadlines.delete(this)
    socket.removeListener('data', onData)
    socket.removeListener('end', onEnd)
    socket.removeListener('close', onEnd)
    socket[kPeek] = undefined
    socket.pause()
    this.done(answer, this.bytes, socket)
  }
}

/**
 * Reads `socket` until `decide` answers for the bytes so far, then pauses it and calls `done`
 * with the answer and those bytes (not consumed: the caller puts them back). The answer is
 * `undefined` when the connection ended or its deadline (`deadlines`) passed first.
 */
export function peek<T> (socket: Socket, deadlines: Deadlines, decide: Decide<T>, done: Done<T>): void {
  const peek = new Peek(socket, deadlines, decide, done)
  ;(socket as Peeked)[kPeek] = peek as Peek<unknown>
  deadlines.add(peek)
  socket.on('data', onData)
  socket.on('end', onEnd)
  socket.on('close', onEnd)
}
