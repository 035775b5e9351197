import type { Certificate } from '../../test/tls-helpers'

export interface Violation {
  problem: string
  left?: Array<{ index?: number, readableEnded: boolean, writableEnded: boolean }>
  index?: number
  fin?: boolean
  pieces?: number[]
  sent?: string
  received?: string
}

export interface Figures {
  seed: number
  cases: number
  answered: number
  closedUnanswered: number
  closedAfterFin: number
  switched: number
  maxAnswerMs: number
  maxCloseAfterFinMs: number
  heapBefore: number
  heapAfter: number
  casesPerSecond: number
}

export function fuzz (options: {
  fastifyUpgrade: unknown
  certificate: Certificate
  cases: number
  seed: number
  concurrency?: number
  only?: number[]
  progress?: (figures: Figures, violations: Violation[]) => void
}): Promise<{ figures: Figures, violations: Violation[] }>
