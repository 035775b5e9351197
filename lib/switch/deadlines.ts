import { performance } from 'node:perf_hooks'

/** What a deadline ends; the links are the queue's, kept on the item so that a handshake allocates nothing for it. */
export interface Expiring {
  expire: () => void
  /** When it expires, on `performance.now()`'s clock; the links below are the queue's. */
  deadline: number
  previous: Expiring | undefined
  next: Expiring | undefined
}

/**
 * The deadlines of the handshakes under way on one server (requests from their head, connections
 * sniffed from their start, adapters' peeks), all `timeout` ms after they start, so
 * they expire in the order they were added: a linked queue through the items themselves, with
 * one timer, armed for the first, for them all. Adding and removing one allocates nothing.
 */
export class Deadlines {
  private first: Expiring | undefined
  private last: Expiring | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly timeout: number) {}

  add (item: Expiring): void {
    // 0: no limit, as for Fastify's own timeouts.
    if (this.timeout === 0) return
    item.deadline = performance.now() + this.timeout
    item.previous = this.last
    item.next = undefined
    if (this.last === undefined) this.first = item
    else this.last.next = item
    this.last = item
    this.timer ??= this.arm(this.timeout)
  }

  /** Takes `item` out of the queue; nothing happens if it is not in it. */
  delete (item: Expiring): void {
    if (item.previous === undefined && this.first !== item) return
    if (item.previous === undefined) this.first = item.next
    else item.previous.next = item.next
    if (item.next === undefined) this.last = item.previous
    else item.next.previous = item.previous
    item.previous = undefined
    item.next = undefined
  }

  private arm (ms: number): NodeJS.Timeout {
    // The connections it bounds keep the process alive, not this timer.
    return setTimeout(() => { this.sweep() }, ms).unref()
  }

  private sweep (): void {
    this.timer = undefined
    const now = performance.now()
    for (let item = this.first; item !== undefined; item = this.first) {
      // Node may fire a timer a little before its time by this clock, or late enough that several are due.
      /* c8 ignore next 4: which depends on the timer's precision, not on anything a test drives */
      if (item.deadline > now) {
        this.timer = this.arm(item.deadline - now)
        return
      }
      this.delete(item)
      item.expire()
    }
  }
}
