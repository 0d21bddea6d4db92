// API budget (DESIGN.md "Budget"): the service may spend API_BUDGET_SHARE of the org's daily
// allocation (read from Sforce-Limit-Info, reference/salesforce.md "Limits") and never push the
// org over it. A token bucket refilled at share * max / 24 h paces calls; while it is empty the
// worker waits, so batches grow and each call carries more work, rather than starving the org's
// other integrations. REQUEST_LIMIT_EXCEEDED pauses every call for a while.
export interface BudgetSnapshot {
  used: number | null;
  max: number | null;
  tokens: number;
  pausedUntil: number;
}

const DAY_MS = 86_400_000;

export class ApiBudget {
  private used: number | null = null;
  private max: number | null = null;
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private readonly share: number;
  private readonly now: () => number;
  /** Keep this share of the org's allocation free for everyone else, whatever our share. */
  private static readonly ORG_RESERVE = 0.02;

  /** Pause after REQUEST_LIMIT_EXCEEDED or when the org is nearly out of calls (scaled like retries in tests). */
  readonly limitPauseMs: number;

  constructor(share: number, now: () => number = Date.now, limitPauseMs = 60_000) {
    this.share = share;
    this.now = now;
    this.limitPauseMs = limitPauseMs;
    this.last = now();
    this.tokens = 5; // a few calls before the first Sforce-Limit-Info tells us the allocation
  }

  private capacity(): number {
    // An hour's worth of our share, at least a handful so small orgs still make progress.
    return this.max ? Math.max(5, (this.max * this.share) / 24) : 5;
  }

  private refill() {
    const t = this.now();
    if (this.max) this.tokens = Math.min(this.capacity(), this.tokens + ((t - this.last) * this.max * this.share) / DAY_MS);
    this.last = t;
  }

  /** Milliseconds to wait before the next `calls` calls may go (0 = go now). The worker loop asks for a
   *  whole batch's calls before claiming it, so a batch never waits for the budget while holding leases. */
  delayMs(calls = 1): number {
    const t = this.now();
    if (this.pausedUntil > t) return this.pausedUntil - t;
    if (this.max !== null && this.used !== null && this.used >= this.max * (1 - ApiBudget.ORG_RESERVE)) return this.limitPauseMs;
    this.refill();
    const need = Math.min(Math.max(1, calls), this.capacity()); // never more than the bucket can hold
    if (this.tokens >= need) return 0;
    if (!this.max) return 1000;
    return Math.ceil(((need - this.tokens) * DAY_MS) / (this.max * this.share));
  }

  take() {
    this.refill();
    this.tokens -= 1;
  }

  /** Sforce-Limit-Info: api-usage=USED/MAX */
  observe(header: string | null) {
    const m = header ? /api-usage=(\d+)\/(\d+)/.exec(header) : null;
    if (!m) return;
    const firstSight = this.max === null;
    this.used = Number(m[1]);
    this.max = Number(m[2]);
    if (firstSight) this.tokens = Math.min(this.capacity(), Math.max(this.tokens, this.capacity() / 4));
  }

  pause(ms: number) {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  snapshot(): BudgetSnapshot {
    return { used: this.used, max: this.max, tokens: this.tokens, pausedUntil: this.pausedUntil };
  }
}
