import { parseUpgrade, type Offer } from '../kit/lists'

const NONE: Offer[] = []
// Values kept parsed, and the longest kept: a client that sends a new value each time costs a
// parse per request, as without this, and at most this many short strings stay.
const MAX_VALUES = 64
const MAX_LENGTH = 256

/**
 * The offers of `Upgrade` values, parsed once per distinct value: clients send the same few
 * (`websocket`, `h2c`) again and again. A value that names none of the adapters' protocol names,
 * in any case, has none, without being parsed. The arrays are shared: nobody changes them.
 */
export class OfferCache {
  private readonly known = new Map<string, Offer[]>()

  /** `names`: the adapters' protocol names (before any "/version"), lower case. */
  constructor (private readonly names: readonly string[]) {}

  of (upgrade: string): Offer[] {
    const known = this.known.get(upgrade)
    if (known !== undefined) return known
    const offers = this.mentionsAName(upgrade) ? parseUpgrade(upgrade) : NONE
    if (upgrade.length <= MAX_LENGTH) {
      if (this.known.size === MAX_VALUES) this.known.clear()
      this.known.set(upgrade, offers)
    }
    return offers
  }

  private mentionsAName (upgrade: string): boolean {
    const lower = upgrade.toLowerCase()
    for (const name of this.names) if (lower.includes(name)) return true
    return false
  }
}
