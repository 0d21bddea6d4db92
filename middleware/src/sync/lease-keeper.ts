// Keeps a batch's leases alive while it is in flight (issue 11, item 7). A batch that waits on the
// API budget or on slow writes can outlive LEASE_MS; without renewal another worker would claim the
// same users and two writes of one user could land out of order.
import type { Store } from '../store/types.ts';

export interface LeaseKeeperOptions {
  store: Pick<Store, 'extendLeases'>;
  workerId: string;
  userKeys: string[];
  leaseMs: number;
  /** Users whose lease was already gone (expired and taken): their outcome will not be saved. */
  onLost(userKeys: string[]): void;
  /** A renewal failed (database away): the next tick tries again, well before the lease ends. */
  onError(err: Error): void;
}

/** Renews every third of the lease, so two renewals can fail before a lease runs out. Call stop() when the batch is settled. */
export function keepLeases(o: LeaseKeeperOptions): { stop(): void } {
  let stopped = false;
  let held = o.userKeys;
  const timer = setInterval(
    async () => {
      if (!held.length) return;
      try {
        const kept = await o.store.extendLeases(o.workerId, held, o.leaseMs);
        if (stopped) return; // the batch settled meanwhile: its leases were released on purpose
        if (kept.length < held.length) {
          const still = new Set(kept);
          o.onLost(held.filter((k) => !still.has(k)));
          held = kept;
        }
      } catch (e) {
        if (!stopped) o.onError(e as Error);
      }
    },
    Math.max(1, Math.floor(o.leaseMs / 3)),
  );
  timer.unref(); // never what keeps a stopping process alive
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
