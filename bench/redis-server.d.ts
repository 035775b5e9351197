// The types of redis-server.js, for the tests that use it.

export interface RedisServer {
  port: number
  pid: number
  /** What it has logged so far. */
  output: () => string
  /** Its exit code, or the signal that ended it. */
  exited: Promise<number | string | null>
  /** Sends SIGTERM and waits for the exit. */
  stop: () => Promise<number | string | null>
}

/** Starts redis-server on 127.0.0.1:`port`; resolves once it accepts connections. */
export function startRedis (port: number): Promise<RedisServer>
