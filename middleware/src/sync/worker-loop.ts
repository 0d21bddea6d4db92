// The worker loop (what graphile-worker calls the worker): claim a batch of users, keep their leases
// while the batch is in flight (lease-keeper.ts), hand it to `process`, and sleep until woken (new
// events) or a retry may be due. What a batch does is the engine's business, not the loop's.
//
// Natural batching (issue 17): a batch is claimed as soon as there is work and no partial batch is in
// flight, so what arrives while one batch is being written goes in the next, which starts when it ends;
// no fixed window. With several workers, a partial batch took everything there was: the others stay idle
// until it ends rather than split a trickle into tiny batches; beside a full batch another worker claims
// only once a full batch's worth of users has arrived (notify(n, userKey)), and the full batch's own loop claims
// again as soon as it ends (a backlog). Before claiming, the loop waits until the API budget holds the
// calls a batch costs (what the last one made): when the budget is short, the interval between batch
// starts is the budget's, the batches grow, and no lease is held meanwhile.
import type { Logger } from 'pino';
import type { ClaimedUser, Store } from '../store/types.ts';
import { keepLeases } from './lease-keeper.ts';

export interface WorkerLoopOptions {
  store: Pick<Store, 'claim' | 'extendLeases'>;
  workerId: string;
  logger: Logger;
  maxUsers: number;
  leaseMs: number;
  /** Optional floor between the starts of two batches after a partial one (BATCH_WAIT_MS; default 0: none). */
  minBatchIntervalMs?: number;
  /** After a partial batch, the next starts no sooner than this times its fill (BATCH_LINGER_MS; 0: off). */
  fillLingerMs?: number;
  /** Idle poll: how soon a retry that fell due is picked up without a wake-up. */
  idlePollMs: number;
  /** Claims nothing until it says so (no configuration yet). */
  ready(): boolean;
  /** Milliseconds until the API budget covers `calls` more calls (0 = now). */
  budgetDelayMs?(calls: number): number;
  /** Processes one claimed batch; `leases.stop()` when its outcome is being saved. Resolves to the API calls it made. */
  process(users: ClaimedUser[], leases: { stop(): void }): Promise<number | void>;
  /** Timers and clock (tests inject fake ones: no test waits on real time). */
  timers?: LoopTimers;
  now?: () => number;
}

export interface LoopTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LoopTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class WorkerLoop {
  private readonly o: WorkerLoopOptions;
  private stopping = false;
  private wakers: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private inflight = new Set<Promise<void>>();
  private readonly timers: LoopTimers;
  private readonly now: () => number;
  /** A loop is claiming: claims go one at a time, so two idle loops never split what is queued. */
  private claiming = false;
  /** Partial batches in flight: each took all there was, so nothing is claimed until it ends. */
  private partialInFlight = 0;
  /** Full batches in flight: another loop claims beside them only once a full batch's worth has arrived. */
  private fullInFlight = 0;
  /** When the last partial batch started, and how full it was (users / maxUsers), for the floor and the linger. */
  private lastPartialStart = -Infinity;
  private lastPartialFill = 0;
  /** When a loop last claimed: the arrivals since then give the rate for the rate-aware linger. */
  private lastClaimAt = -Infinity;
  /** During a surge of full batches that arrived: when the last was claimed, and how long after the one before. */
  private lastFullClaimAt = -Infinity;
  private lastFullFillMs = 0;
  /** Events stored since the last claim that name no user (notify(n) without a key): each counts as one user. */
  private anonymous = 0;
  /**
   * Users with events stored and not claimed yet (notify(n, userKey)): a batch is capped in users, so one
   * person's events share one slot. Claimed users leave it; a claim that empties the queue clears it (what is
   * left was claimed elsewhere). Bounded: past two batches' worth the count means a backlog anyway.
   */
  private arrived = new Set<string>();
  /** Users waiting that this process saw arrive: a full batch's worth makes the linger moot. */
  private get arrivals() {
    return this.arrived.size + this.anonymous;
  }
  /** API calls a batch is expected to cost (what the last one made; a match and a write before the first). */
  private batchCalls = 2;

  constructor(o: WorkerLoopOptions) {
    this.o = o;
    this.timers = o.timers ?? realTimers;
    this.now = o.now ?? Date.now;
  }

  start(concurrency: number) {
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop());
  }

  /**
   * Wakes every idle loop now; `newEvents` counts events just stored, so a full batch waiting is claimed at once.
   * With `userKey` (the webhook's), events of a person already counted since the last claim add nothing: in the
   * benchmark's 1,000/s phase one stored event in ten is another of a person already waiting, and counting
   * events claimed batches of ~900 users as full (more batches, each two API calls).
   */
  notify(newEvents = 0, userKey?: string): void {
    if (userKey === undefined) this.anonymous += newEvents;
    else if (newEvents > 0 && this.arrived.size < 2 * this.o.maxUsers) this.arrived.add(userKey);
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  /** Stops claiming; resolves when the loops and their batches end. */
  stop(): Promise<unknown> {
    this.stopping = true;
    this.notify();
    return Promise.all([...this.loops, ...this.inflight]);
  }

  /** Sleeps up to `ms`; true when woken by notify(). */
  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.timers.setTimeout(() => {
        this.wakers = this.wakers.filter((f) => f !== w);
        resolve(false);
      }, ms);
      const w = () => {
        this.timers.clearTimeout(t);
        resolve(true);
      };
      this.wakers.push(w);
    });
  }

  /** How long this loop must wait before it may claim (0 = claim now). */
  private claimDelayMs(afterFullBatch: boolean): number {
    if (this.claiming) return this.o.idlePollMs;
    // A full batch waiting is claimed without waiting for a batch in flight or the linger; the budget still applies.
    if (this.arrivals < this.o.maxUsers) {
      const lingerMs = this.o.fillLingerMs ?? 0;
      // A batch in flight ends, then its loop claims: a partial one took all there was, and beside a full one
      // a second claim would only take the few events that arrived since (tiny batches, more calls per event).
      if (this.partialInFlight > 0 || (this.fullInFlight > 0 && !afterFullBatch)) return this.o.idlePollMs;
      // Fill-proportional linger: a trickle (a nearly empty batch) goes at once; under heavy traffic the
      // wait outgrows the batch's own duration once the rate passes maxUsers / BATCH_LINGER_MS, so batches
      // fill up and each API call carries up to maxUsers users (issue 17: light-load latency and the
      // calls per 1,000 events at high load are both met by one rule, like Kafka's linger.ms scaled by fill).
      const linger = lingerMs * this.lastPartialFill;
      const floor = this.lastPartialStart + Math.max(this.o.minBatchIntervalMs ?? 0, linger) - this.now();
      if (floor > 0) return floor;
      // Rate-aware: while the users arrived since the last claim come fast enough to fill a batch within the
      // linger of that claim, wait for the full batch (its arrival cuts the wait short) rather than claim the
      // part there is: by fill alone a surge to 1,000/s went 1, 230, 420, 760 users before full batches, each
      // costing a full batch's calls. A tenth of a batch at least, so a few quick events are no rate; not
      // after a backlog's full batch (the queue holds a full batch already).
      if (lingerMs && !afterFullBatch && this.arrivals >= this.o.maxUsers / 10) {
        // until the rate since the claim, if no one else arrives, falls below a batch per linger; and during a
        // surge of full batches, at least until the next would have filled at the last one's pace: a dip in
        // arrivals (the sender or this service held up for a moment) claimed a part batch mid-surge, two more
        // API calls (issue 17: 22 calls for 10,000 events at 1,000/s instead of 20). The end of a surge waits
        // that long for its tail (at most the linger).
        const wait = this.lastClaimAt + Math.min(lingerMs, Math.max((this.arrivals * lingerMs) / this.o.maxUsers, this.lastFullFillMs)) - this.now();
        if (wait > 0) return wait;
      }
    }
    // Not more than a second at a time: the budget's answer changes with every Sforce-Limit-Info.
    return Math.min(this.o.budgetDelayMs?.(this.batchCalls) ?? 0, 1000);
  }

  private async loop(): Promise<void> {
    const o = this.o;
    let afterFullBatch = false; // this loop's last batch was full from a backlog, so it claims again at once
    while (!this.stopping) {
      if (!o.ready()) {
        await this.wait(500);
        continue;
      }
      const delay = this.claimDelayMs(afterFullBatch);
      afterFullBatch = false;
      if (delay > 0) {
        await this.wait(delay);
        continue;
      }
      let users: ClaimedUser[];
      this.claiming = true;
      const waiting = this.arrivals;
      this.anonymous = 0;
      this.lastClaimAt = this.now();
      try {
        users = await o.store.claim({ workerId: o.workerId, maxUsers: o.maxUsers, maxEventsPerUser: 1000, leaseMs: o.leaseMs });
      } catch (e) {
        o.logger.error({ err: (e as Error).message }, 'claim failed');
        await this.wait(1000);
        continue;
      } finally {
        this.claiming = false;
      }
      const partial = users.length < o.maxUsers;
      // Full batches that arrived (not a backlog's) set the pace of a surge; a partial one ends it.
      if (!partial && waiting >= o.maxUsers) {
        this.lastFullFillMs = Number.isFinite(this.lastFullClaimAt) ? this.lastClaimAt - this.lastFullClaimAt : 0;
        this.lastFullClaimAt = this.lastClaimAt;
      } else if (users.length) {
        this.lastFullFillMs = 0;
        this.lastFullClaimAt = -Infinity;
      }
      if (partial) this.arrived.clear();
      else for (const u of users) this.arrived.delete(u.userKey);
      if (!users.length) {
        await this.wait(o.idlePollMs); // until an event arrives or a retry falls due
        continue;
      }
      // A full batch means a backlog (its loop claims again as soon as it ends) when the queue held more than
      // this process saw arrive, or two batches' worth arrived. One that the arrivals account for (claimed
      // once a full batch's worth had arrived) is no backlog: claiming again at once would take a part batch
      // of what arrived meanwhile, so the rate-aware linger decides after it (claimDelayMs).
      const backlog = !partial && (waiting < o.maxUsers || waiting >= 2 * o.maxUsers);
      if (partial) {
        this.partialInFlight++;
        this.lastPartialStart = this.now();
        this.lastPartialFill = users.length / o.maxUsers;
      } else {
        this.fullInFlight++;
        this.lastPartialStart = -Infinity;
      }
      const leases = keepLeases({
        store: o.store,
        workerId: o.workerId,
        userKeys: users.map((u) => u.userKey),
        leaseMs: o.leaseMs,
        onLost: (keys) => o.logger.warn({ users: keys.length }, 'leases lost while the batch was in flight; those users will be processed again'),
        onError: (e) => o.logger.warn({ err: e.message }, 'lease renewal failed; retrying'),
      });
      const p = o
        .process(users, leases)
        .then((calls) => {
          if (typeof calls === 'number') this.batchCalls = Math.max(1, calls);
        })
        .catch((e) => o.logger.error({ err: (e as Error).message }, 'batch failed'))
        .finally(() => leases.stop());
      this.inflight.add(p);
      await p;
      this.inflight.delete(p);
      if (partial) this.partialInFlight--;
      else this.fullInFlight--;
      afterFullBatch = backlog;
    }
  }
}
