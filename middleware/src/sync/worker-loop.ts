// The worker loop (what graphile-worker calls the worker): claim a batch of users, keep their leases
// while the batch is in flight (lease-keeper.ts), hand it to `process`, and sleep until woken (new
// events) or a retry may be due. What a batch does is the engine's business, not the loop's.
import type { Logger } from 'pino';
import type { ClaimedUser, Store } from '../store/types.ts';
import { keepLeases } from './lease-keeper.ts';

export interface WorkerLoopOptions {
  store: Pick<Store, 'claim' | 'extendLeases'>;
  workerId: string;
  logger: Logger;
  maxUsers: number;
  leaseMs: number;
  /** A partial batch means light traffic: wait this long to let the next one fill. */
  batchWaitMs: number;
  /** Idle poll: how soon a retry that fell due is picked up without a wake-up. */
  idlePollMs: number;
  /** Claims nothing until it says so (no configuration yet). */
  ready(): boolean;
  /** Processes one claimed batch; `leases.stop()` when its outcome is being saved. */
  process(users: ClaimedUser[], leases: { stop(): void }): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WorkerLoop {
  private readonly o: WorkerLoopOptions;
  private stopping = false;
  private wakers: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private inflight = new Set<Promise<void>>();

  constructor(o: WorkerLoopOptions) {
    this.o = o;
  }

  start(concurrency: number) {
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop());
  }

  /** Wakes every idle loop now. */
  notify(): void {
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
      const t = setTimeout(() => {
        this.wakers = this.wakers.filter((f) => f !== w);
        resolve(false);
      }, ms);
      const w = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.wakers.push(w);
    });
  }

  private async loop(): Promise<void> {
    const o = this.o;
    while (!this.stopping) {
      if (!o.ready()) {
        await this.wait(500);
        continue;
      }
      let users: ClaimedUser[];
      try {
        users = await o.store.claim({ workerId: o.workerId, maxUsers: o.maxUsers, maxEventsPerUser: 1000, leaseMs: o.leaseMs });
      } catch (e) {
        o.logger.error({ err: (e as Error).message }, 'claim failed');
        await this.wait(1000);
        continue;
      }
      if (!users.length) {
        // Idle: sleep until an event arrives (then give the batch a moment to fill) or a retry falls due.
        if (await this.wait(o.idlePollMs)) await sleep(o.batchWaitMs);
        continue;
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
        .catch((e) => o.logger.error({ err: (e as Error).message }, 'batch failed'))
        .finally(() => leases.stop());
      this.inflight.add(p);
      await p;
      this.inflight.delete(p);
      // A batch flushes when full or after BATCH_WAIT_MS: a partial batch means traffic is light, so let the next one fill.
      if (users.length < o.maxUsers && !this.stopping) await sleep(o.batchWaitMs);
    }
  }
}
