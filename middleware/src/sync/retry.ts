// Retry schedule for transient failures (DESIGN.md "Outcome"; reference/didomi.md: Didomi itself
// retries at least five times in five minutes). Five quick retries within the first 5 minutes
// (5 s, 15 s, 30 s, 60 s, 90 s: the 5th retry is 200 s after the first failure), then exponential
// backoff capped at 6 hours, for as long as it takes: work is never dropped.
const FIRST_SECONDS = [5, 15, 30, 60, 90];
const CAP_MS = 6 * 3600_000;

/** Delay before the next try after `failures` consecutive failures (1 = the first failure). */
export function retryDelayMs(failures: number, scale = 1, random: () => number = Math.random): number {
  const n = Math.max(1, failures);
  const base = n <= FIRST_SECONDS.length ? FIRST_SECONDS[n - 1] * 1000 : Math.min(CAP_MS, 120_000 * 2 ** (n - FIRST_SECONDS.length));
  const jitter = 1 + (random() - 0.5) * 0.2; // +-10% so users failing together do not retry in lockstep
  return Math.max(1, Math.round(base * jitter * scale));
}
