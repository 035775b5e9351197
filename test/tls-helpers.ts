import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type TLSSocket } from 'node:tls'
import type { Test } from 'tap'
import type { RawClient } from './helpers'

export interface Certificate {
  key: Buffer
  cert: Buffer
}

let made: Certificate | undefined

/** A self-signed certificate for 127.0.0.1, made once per test process with openssl. */
export function certificate (): Certificate {
  if (made !== undefined) return made
  const dir = mkdtempSync(join(tmpdir(), 'fastify-upgrade-tls-'))
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')
    ], { stdio: 'ignore' })
    made = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
    return made
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Starts TLS on a RawClient's connection after its 101, trusting the test certificate. */
export async function startTls (t: Test, client: RawClient): Promise<TLSSocket> {
  client.socket.removeAllListeners('data')
  const socket = connect({ socket: client.socket, ca: certificate().cert, servername: 'localhost' })
  t.teardown(() => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve)
    socket.once('error', reject)
  })
  return socket
}

/** Collects what a TLS socket receives; the function waits until it holds `needle` `times` times, or closes. */
export function reader (socket: TLSSocket): (needle: string, times?: number) => Promise<string> {
  let text = ''
  const waiters: Array<() => void> = []
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1')
    for (const wake of waiters.splice(0)) wake()
  })
  socket.on('close', () => { for (const wake of waiters.splice(0)) wake() })
  return async (needle, times = 1) => {
    while (text.split(needle).length <= times && !socket.destroyed && !socket.readableEnded) {
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
    return text
  }
}
