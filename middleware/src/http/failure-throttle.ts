// Failed client authentications per source address, for POST /oauth/token: after `max` failures
// within `windowMs` (counted from the first), every request from that address gets 429 with
// Retry-After (RFC 6585 section 4) until the window ends, so the client secret cannot be
// brute-forced. Hand-written rather than express-rate-limit because only failures count and the
// clock must be injectable. Memory is bounded: at most MAX_ADDRESSES are tracked.
const MAX_ADDRESSES = 10_000;

export class FailureThrottle {
  private readonly seen = new Map<string, { failures: number; until: number }>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  constructor(max: number, windowMs: number, now: () => number = Date.now) {
    this.max = max;
    this.windowMs = windowMs;
    this.now = now;
  }

  /** Seconds the address must wait, or 0 when it may try. */
  retryAfter(address: string): number {
    const e = this.seen.get(address);
    const now = this.now();
    if (!e) return 0;
    if (e.until <= now) {
      this.seen.delete(address);
      return 0;
    }
    return e.failures >= this.max ? Math.ceil((e.until - now) / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.now();
    const e = this.seen.get(address);
    if (e && e.until > now) {
      e.failures++;
      return;
    }
    if (this.seen.size >= MAX_ADDRESSES) {
      for (const [k, v] of this.seen) if (v.until <= now) this.seen.delete(k);
      // Still full: forget the oldest entry (insertion order) rather than grow without bound.
      if (this.seen.size >= MAX_ADDRESSES) this.seen.delete(this.seen.keys().next().value!);
    }
    this.seen.set(address, { failures: 1, until: now + this.windowMs });
  }
}
