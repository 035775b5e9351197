import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import type { Socket } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import fastifyUpgrade from '../lib/index'
import type { FastifyUpgradeOptions, H2cOptions } from '../types/index'
import type { RawClient } from './helpers'

declare module '../types/index' {
  interface UpgradeProtocols {
    echo: Socket
  }
}

/** A Fastify app speaking h2c (and the echo protocol), closed when the test ends. */
export async function buildH2c (t: Test, h2cOptions: H2cOptions = {}, options: Partial<FastifyUpgradeOptions> = {}, fastifyOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions)
  await app.register(fastifyUpgrade, {
    protocols: [fastifyUpgrade.h2c(h2cOptions), fastifyUpgrade.raw({ name: 'echo', tokens: ['echo/1'] })],
    ...options
  })
  t.teardown(() => app.close())
  return app
}

/** Whether a CLI tool is on PATH; outside CI a missing one skips the test with the reason. */
export function hasTool (t: Test, name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK)
      return true
    } catch {}
  }
  if (process.env.CI !== undefined) throw new Error(`${name} is required in CI`)
  t.skip(`${name} is not installed`, () => {})
  return false
}

export interface Run { stdout: string, stderr: string, code: number }

export async function run (file: string, args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(file, args, { timeout: 20000, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error === null ? 0 : Number((error as { code?: number }).code ?? 1) })
    })
  })
}

export interface Frame { type: number, flags: number, stream: number, payload: Buffer }

/** The whole frames in `bytes` and where the next one starts. */
export function parseFrames (bytes: Buffer): { frames: Frame[], rest: Buffer } {
  const frames: Frame[] = []
  let i = 0
  while (bytes.length - i >= 9) {
    const length = bytes.readUIntBE(i, 3)
    if (bytes.length - i < 9 + length) break
    frames.push({ type: bytes[i + 3], flags: bytes[i + 4], stream: bytes.readUInt32BE(i + 5) & 0x7fffffff, payload: bytes.subarray(i + 9, i + 9 + length) })
    i += 9 + length
  }
  return { frames, rest: bytes.subarray(i) }
}

/** Waits until the frames received after byte `from` satisfy `done`, up to 5 s; answers them. */
export async function framesUntil (c: RawClient, from: number, done: (frames: Frame[]) => boolean): Promise<Frame[]> {
  const received = (): Frame[] => parseFrames(c.received.subarray(from)).frames
  await c.untilMatch(() => done(received()))
  return received()
}

/** The DATA bytes of `stream`, and whether it ended. */
export function streamData (frames: Frame[], stream: number): { body: string, ended: boolean } {
  const mine = frames.filter((f) => f.stream === stream && (f.type === 0 || f.type === 1))
  return {
    body: Buffer.concat(mine.filter((f) => f.type === 0).map((f) => f.payload)).toString(),
    ended: mine.some((f) => (f.flags & 1) === 1)
  }
}
