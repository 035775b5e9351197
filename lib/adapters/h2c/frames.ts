/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
/** Frame header length. */
export const HEADER = 9
/** The frame size every endpoint accepts before its own SETTINGS say more (RFC 9113 §4.2). */
export const MAX_FRAME = 16384
export const HEADERS = 0x1
export const SETTINGS = 0x4
export const CONTINUATION = 0x9
export const END_STREAM = 0x1
export const END_HEADERS = 0x4

export function frame (type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(HEADER)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function integer (bytes: number[], value: number, prefix: number, first: number): void {
  const max = (1 << prefix) - 1
  if (value < max) {
    bytes.push(first | value)
    return
  }
  bytes.push(first | max)
  value -= max
  while (value >= 128) {
    bytes.push((value % 128) + 128)
    value = Math.floor(value / 128)
  }
  bytes.push(value)
}

function literal (parts: Buffer[], text: string): void {
  const octets = Buffer.from(text, 'latin1')
  const length: number[] = []
  integer(length, octets.length, 7, 0)
  parts.push(Buffer.from(length), octets)
}

/**
 * A header block of literals without indexing and without Huffman coding (RFC 7541 §6.2.2):
 * decoding it leaves the server's dynamic table as it was, so the client's HPACK state stays in step.
 */
export function headerBlock (fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = []
  const zero = Buffer.from([0])
  for (const [name, value] of fields) {
    parts.push(zero)
    literal(parts, name)
    literal(parts, value)
  }
  return Buffer.concat(parts)
}

/** A request without a body on `stream`: HEADERS (and CONTINUATION), each frame within MAX_FRAME. */
export function requestFrames (stream: number, fields: ReadonlyArray<readonly [string, string]>): Buffer[] {
  const block = headerBlock(fields)
  const frames: Buffer[] = []
  for (let i = 0; i < block.length; i += MAX_FRAME) {
    const last = i + MAX_FRAME >= block.length
    const flags = (last ? END_HEADERS : 0) | (i === 0 ? END_STREAM : 0)
    frames.push(frame(i === 0 ? HEADERS : CONTINUATION, flags, stream, block.subarray(i, i + MAX_FRAME)))
  }
  return frames
}
