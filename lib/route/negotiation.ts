import type { ProtocolAdapter } from '../../types/index'
import type { Offer } from '../kit/lists'

export interface Candidate {
  adapter: ProtocolAdapter
  value: unknown
  /** Position in the route's `protocols`, for server preference. */
  rank: number
}

/** A route's acceptable protocols by key, built once when the route is added. */
export type RouteProtocols = Map<string, Candidate>

export interface Choice {
  offer: Offer
  candidate: Candidate
}

/**
 * The acceptable offers, best first: in the client's order (U4), or in the route's order with
 * `preference: 'server'`. Only offered protocols can appear, each once.
 */
export function negotiate (offers: Offer[], protocols: RouteProtocols, preference: 'client' | 'server'): Choice[] {
  const choices: Choice[] = []
  for (const offer of offers) {
    const candidate = protocols.get(offer.key)
    if (candidate !== undefined && !choices.some((choice) => choice.offer.key === offer.key)) {
      choices.push({ offer, candidate })
    }
  }
  if (preference === 'server') choices.sort((a, b) => a.candidate.rank - b.candidate.rank)
  return choices
}
