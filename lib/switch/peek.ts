import type { Socket } from 'node:net'

const EMPTY = Buffer.alloc(0)

/**
 * Reads `socket` until `decide` answers for the bytes so far, then pauses it and calls `done`
 * with the answer and those bytes (not consumed: the caller puts them back). The answer is
 * `undefined` when the connection ended or `timeout` ms passed first (0: no limit).
 */
export function peek<T> (socket: Socket, timeout: number, decide: (bytes: Buffer) => T | undefined, done: (answer: T | undefined, bytes: Buffer) => void): void {
  let bytes: Buffer = EMPTY
  let timer: NodeJS.Timeout | undefined
  const finish = (answer: T | undefined): void => {
    clearTimeout(timer)
    socket.removeListener('data', onData)
    socket.removeListener('end', onEnd)
    socket.removeListener('close', onEnd)
    socket.pause()
    done(answer, bytes)
  }
  const onData = (chunk: Buffer): void => {
    bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk])
    const answer = decide(bytes)
    if (answer !== undefined) finish(answer)
  }
  const onEnd = (): void => { finish(undefined) }
  if (timeout > 0) timer = setTimeout(onEnd, timeout)
  socket.on('data', onData)
  socket.on('end', onEnd)
  socket.on('close', onEnd)
}
