import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { Test } from 'tap'
import { WebSocket as WsClient } from 'ws'
import { type RedisServer, startRedis } from '../bench/redis-server'

// examples/cluster/app.mjs as an operator runs it: processes of this package's build, a real
// redis-server between them, WebSocket clients that remember everything they were sent.

const root = join(__dirname, '..')

/** A redis-server on `port` (a free one from freePort()), stopped when the test ends. */
export async function redisServer (t: Test, port: number): Promise<RedisServer> {
  const server = await startRedis(port)
  t.teardown(async () => { await server.stop() })
  return server
}

export interface App {
  child: ChildProcess
  port: number
  pid: number
  output: () => string
  /** Resolves with the first line that matches `pattern` written from now on. */
  next: (pattern: RegExp) => Promise<string>
  exited: Promise<number | null>
}

/** Starts examples/cluster/`file` on `port` (0: any), ready once Fastify logs its address; killed when the test ends. */
export async function startApp (t: Test, redisPort: number, port = 0, file = 'app.mjs'): Promise<App> {
  const env = { ...process.env, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` }
  const child = spawn(process.execPath, [join(root, 'examples', 'cluster', file)], { cwd: root, env })
  let output = ''
  const waiters = new Set<() => void>()
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGKILL')
    await exited
  })
  const collect = (chunk: Buffer): void => {
    output += chunk.toString()
    for (const waiter of waiters) waiter()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const next = async (pattern: RegExp): Promise<string> => {
    let from = output.length
    return await new Promise((resolve, reject) => {
      const check = (): void => {
        // Whole lines only: a chunk may end in the middle of one.
        const end = output.lastIndexOf('\n') + 1
        const line = output.slice(from, end).split('\n').find((line) => pattern.test(line))
        if (line !== undefined) {
          waiters.delete(check)
          resolve(line)
        } else if (end > from) {
          from = end
        }
      }
      waiters.add(check)
      exited.then(() => { reject(new Error(`${file} exited before logging ${pattern}: ${output}`)) }, () => {})
    })
  }
  const listening = next(/Server listening at http:\/\/127\.0\.0\.1:\d+/)
  const line = await Promise.race([listening, exited.then(() => { throw new Error(`${file} exited: ${output}`) })])
  return { child, port: Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]), pid: child.pid as number, output: () => output, next, exited }
}

/** A client of /chat: the pid in its welcome, then every message it gets, in order. */
export interface Member {
  name: string
  ws: WsClient
  pid: Promise<number>
  received: string[]
  closed: Promise<number>
  /** Resolves once `done(received)` holds. */
  until: (done: (received: string[]) => boolean) => Promise<void>
}

export function member (t: Test, name: string, port: number): Member {
  const ws = new WsClient(`ws://127.0.0.1:${port}/chat`)
  ws.on('error', () => {})
  t.teardown(() => { ws.terminate() })
  const received: string[] = []
  const waiters = new Set<() => void>()
  let welcomed: (pid: number) => void = () => {}
  const pid = new Promise<number>((resolve) => { welcomed = resolve })
  ws.on('message', (data) => {
    const text = data.toString()
    const welcome = /^welcome, served by process (\d+)$/.exec(text)
    if (welcome !== null) welcomed(Number(welcome[1]))
    else received.push(text)
    for (const waiter of waiters) waiter()
  })
  const closed = new Promise<number>((resolve) => ws.once('close', resolve))
  const until = async (done: (received: string[]) => boolean): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!done(received)) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
      closed.then((code) => { reject(new Error(`${name} closed (${code}) while waiting, with ${JSON.stringify(received)}`)) }, () => {})
    })
  }
  return { name, ws, pid, received, closed, until }
}

/** Answers the pid that served it. */
export async function joined (m: Member): Promise<number> {
  return await Promise.race([m.pid, m.closed.then((code) => { throw new Error(`${m.name} closed (${code}) before its welcome`) })])
}

/** GET /metrics of one process, directly. */
export async function metrics (app: App): Promise<Record<string, number>> {
  const response = await fetch(`http://127.0.0.1:${app.port}/metrics`)
  return await response.json() as Record<string, number>
}
