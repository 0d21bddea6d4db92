// The worker loop's batching (issue 17, part 1): natural batching instead of a fixed BATCH_WAIT_MS window,
// the API budget checked before claiming, and what "in flight" means with several workers. Timers and the
// budget's clock are fake: nothing here waits on real time, and a loop that waited for a window that never
// ends would simply never claim (the tests wait on counters, not on the clock).
import { test } from 'node:test';
import pg from 'pg';
import assert from 'node:assert/strict';
import { WorkerLoop, type LoopTimers, type WorkerLoopOptions } from '../src/sync/worker-loop.ts';
import { ApiBudget } from '../src/salesforce/budget.ts';
import { createLogger } from '../src/observability/logger.ts';
import type { ClaimedUser } from '../src/store/types.ts';
import { startStack } from '../../test/support/stack.ts';
import { metricSum, waitFor } from '../../test/support/wait-for.ts';
import { eventCreated, PURPOSE } from '../../test/support/didomi-events.ts';

const logger = createLogger('silent');
const at = (sec: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, sec));

/** Fake timers on a fake clock: nothing fires until advance() moves the clock past it. */
class FakeClock {
  t = 0;
  private seq = 0;
  private due = new Map<number, { at: number; fn: () => void }>();
  readonly timers: LoopTimers = {
    setTimeout: (fn, ms) => {
      const id = ++this.seq;
      this.due.set(id, { at: this.t + ms, fn });
      return id;
    },
    clearTimeout: (h) => void this.due.delete(h as number),
  };
  /** Moves the clock `ms` forward, firing each timer due on the way (in order) and letting the loop react. */
  async advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.due.entries()].filter(([, d]) => d.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.due.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets every pending promise chain run (the fake store and batches resolve without I/O). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

/** Waits until `cond` holds, turning the event loop only: fails if the loop is stuck on a timer that never fires. */
async function until(what: string, cond: () => boolean) {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), `never happened: ${what}`);
}

const user = (userKey: string): ClaimedUser => ({ userKey, state: null, written: null, attempts: 0, firstFailedAt: null, events: [] });

/** A queue of users to claim, like the store's inbox. */
function fakeStore() {
  const queue: string[] = [];
  const claims: string[][] = [];
  return {
    queue,
    claims,
    store: {
      claim: async (o: { maxUsers: number }) => {
        const got = queue.splice(0, o.maxUsers);
        if (got.length) claims.push(got);
        return got.map(user);
      },
      extendLeases: async (_w: string, keys: string[]) => keys,
    },
  };
}

/** A worker loop on the fake store and clock (worker w1, leases that never lapse); `o` holds what each test varies. */
function fakeLoop(
  clock: FakeClock,
  store: ReturnType<typeof fakeStore>['store'],
  o: Pick<WorkerLoopOptions, 'maxUsers' | 'idlePollMs' | 'process'> & Partial<WorkerLoopOptions>,
) {
  return new WorkerLoop({ store, workerId: 'w1', logger, leaseMs: 600_000, ready: () => true, timers: clock.timers, now: () => clock.t, ...o });
}

/** A batch that stays in flight until released. */
function gatedBatches() {
  const running: { keys: string[]; release(): void }[] = [];
  return {
    running,
    process: (users: ClaimedUser[]) => new Promise<void>((release) => running.push({ keys: users.map((u) => u.userKey), release: () => release() })),
  };
}

/**
 * A fake clock and store, and a worker loop on them whose batches stay in flight until released (`b.running`);
 * `arrive(count)` queues that many new users (u0, u1, …) with one event each and notifies the loop, as a webhook does.
 */
function gatedLoop(o: Pick<WorkerLoopOptions, 'maxUsers'> & Partial<WorkerLoopOptions>) {
  const clock = new FakeClock();
  const s = fakeStore();
  const b = gatedBatches();
  const loop = fakeLoop(clock, s.store, { idlePollMs: 60_000, process: b.process, ...o });
  let n = 0;
  const arrive = (count: number) => {
    for (let i = 0; i < count; i++) {
      const k = `u${n++}`;
      s.queue.push(k);
      loop.notify(1, k);
    }
  };
  return { clock, s, b, loop, arrive };
}

test('natural batching: what arrives during a batch is claimed as soon as it ends, and an event arriving while idle at once: no window to wait out', async () => {
  const { clock, s, b, loop } = gatedLoop({ maxUsers: 100 }); // never advanced: a loop that waits for any window never claims again
  s.queue.push('a');
  loop.start(1);
  await until('the first event is claimed', () => b.running.length === 1);
  s.queue.push('b', 'c'); // arrive while the batch is in flight
  loop.notify();
  await settle();
  assert.equal(s.claims.length, 1, 'nothing claimed while the batch is in flight');
  b.running[0]!.release();
  await until('what arrived meanwhile is claimed right after the batch', () => b.running.length === 2);
  assert.deepEqual(b.running[1]!.keys, ['b', 'c'], 'in one batch');
  b.running[1]!.release();
  await settle();
  s.queue.push('d'); // a trickle: one event while idle
  loop.notify();
  await until('an event arriving while idle is claimed at once', () => b.running.length === 3);
  assert.equal(clock.t, 0, 'no timer had to fire');
  b.running[2]!.release();
  await loop.stop();
});

test('several workers: idle workers do not split a trickle while a partial batch is in flight; beside a full batch another worker claims only once a full batch more has arrived', async () => {
  const { clock, s, b, loop } = gatedLoop({ maxUsers: 2 });
  loop.start(3);
  await settle();
  s.queue.push('a');
  loop.notify();
  await until('a is claimed', () => b.running.length === 1);
  s.queue.push('b');
  loop.notify();
  await clock.advance(10_000); // any window the other workers might wait for ends
  assert.deepEqual(s.claims, [['a']], 'no other worker claims b while the partial batch [a] is in flight');
  b.running[0]!.release();
  await until('b follows once [a] has ended', () => b.running.length === 2);
  assert.deepEqual(b.running[1]!.keys, ['b']);
  b.running[1]!.release();
  await settle();
  // Heavy traffic: a full batch, then a full batch's worth more arrives while it is in flight: claimed alongside.
  s.queue.push('c', 'd');
  loop.notify(2);
  await until('the full batch [c, d] is claimed', () => b.running.length === 3);
  s.queue.push('e', 'f');
  loop.notify(2);
  await until('a full batch more arrived: another worker claims it alongside', () => b.running.length === 4);
  assert.deepEqual(b.running[3]!.keys, ['e', 'f']);
  s.queue.push('g');
  loop.notify(1);
  await clock.advance(10_000);
  assert.equal(b.running.length, 4, 'one event beside two full batches: nobody claims a tiny batch alongside them');
  b.running[2]!.release();
  await clock.advance(10_000);
  assert.equal(b.running.length, 4, 'what arrived accounts for the full batch that ended (no backlog): g waits beside the other full batch');
  b.running[3]!.release();
  await until('g is claimed once no batch is in flight', () => b.running.length === 5);
  assert.deepEqual(b.running[4]!.keys, ['g']);
  b.running[4]!.release();
  await loop.stop();
});

test('API budget of one call a second: batches grow instead of calls exceeding it, and no batch waits for the budget while holding leases', async () => {
  const clock = new FakeClock();
  const budget = new ApiBudget(1, () => clock.t); // share 1 of 86,400 calls a day: one call a second
  budget.observe('api-usage=0/86400');
  while (budget.delayMs() === 0) budget.take(); // the bucket starts empty
  const s = fakeStore();
  let calls = 0;
  let waitedHoldingLeases = 0;
  const batchSizes: number[] = [];
  const loop = fakeLoop(clock, s.store, {
    maxUsers: 1000,
    idlePollMs: 1000,
    budgetDelayMs: (n) => budget.delayMs(n),
    // Each batch makes two calls (a match query and a write), as the engine does for a small batch.
    process: async (users) => {
      batchSizes.push(users.length);
      for (let i = 0; i < 2; i++) {
        if (budget.delayMs() > 0) waitedHoldingLeases++; // the Salesforce client would wait here, leases held
        budget.take();
        calls++;
      }
      return 2;
    },
  });
  loop.start(2);
  const seconds = 60;
  let arrived = 0;
  for (let i = 0; i < seconds * 10; i++) {
    s.queue.push(`u${arrived++}`); // 10 events a second, each from a new user
    loop.notify();
    await clock.advance(100);
  }
  const processed = batchSizes.reduce((n, x) => n + x, 0);
  assert.ok(calls <= seconds + 1, `${calls} calls in ${seconds} s with a budget of one a second`);
  assert.equal(waitedHoldingLeases, 0, 'every batch had its calls in the budget before claiming');
  assert.equal(processed + s.queue.length, arrived, 'every user processed or still queued');
  assert.ok(s.queue.length <= 20, `the sync keeps up (${s.queue.length} left)`);
  assert.ok(
    batchSizes.slice(1).every((n) => n >= 10),
    `batches grow to what arrives while the budget refills (${batchSizes.join(',')})`,
  );
  await loop.stop();
});

test('through the emulator (PostgreSQL): with the budget short of a batch, events wait in the queue unleased; once it refills, they go in one batch of two calls', async () => {
  // 100 calls a day for us (share 0.1 of 1,000): one every 864 s of the emulator's clock, which the
  // middleware follows; real time refills nothing that matters here. The bucket holds 5 calls.
  // PostgreSQL (a fresh schema), so the test can read the leases while the service runs.
  const PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `budget_loop_${process.pid}`;
  const admin = new pg.Pool({ connectionString: PG, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const s = await startStack({
    store: 'postgres',
    databaseUrl: `${PG}?options=-c%20search_path%3D${schema}`,
    followEmulatorClock: true,
    emulator: { dailyApiLimit: 1000 },
    seed: { contact: false },
    env: { API_BUDGET_SHARE: '0.1', HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' },
  });
  try {
    const email = (i: number) => `budget${i}@example.com`;
    s.emu.seed({ Lead: Array.from({ length: 21 }, (_, i) => ({ LastName: `B${i}`, Company: 'Acme', Email: email(i) })) });
    const m = async (name: string) => metricSum(await s.metrics(), name);
    const written = async () => (await s.records('Lead')).filter((l) => l.HasOptedOutOfEmail === true).length;
    const token = await s.token();
    // Start: the configuration and the heartbeat took 2 of the 5 calls; the first batch (a match and a write) 2 more.
    assert.equal((await s.post(eventCreated(email(0), at(1), { purposes: { [PURPOSE]: false } }), token)).status, 202);
    await waitFor('the first batch settled', async () => (await m('didomi_sync_batch_users_sum')) === 1);
    assert.equal(await written(), 1);
    const calls0 = s.emu.stats().apiCalls.total;
    for (let i = 1; i <= 20; i++) assert.equal((await s.post(eventCreated(email(i), at(1), { purposes: { [PURPOSE]: false } }), token)).status, 202);
    await waitFor('20 events queued', async () => (await m('didomi_sync_queue_depth')) === 20);
    const leased = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.user_sync WHERE lease_owner IS NOT NULL`);
    assert.equal(leased.rows[0].n, 0, "no lease held while the budget lacks the batch's 2 calls");
    assert.equal(await m('didomi_sync_batch_users_count'), 1, 'no second batch yet');
    assert.equal(s.emu.stats().apiCalls.total, calls0, 'no call made');
    s.emu.advanceClock(900_000); // a little more than one call's refill
    await waitFor('the 20 users settled', async () => (await m('didomi_sync_batch_users_sum')) === 21);
    assert.equal(await written(), 21, 'every Lead written');
    assert.equal(await m('didomi_sync_batch_users_count'), 2, 'in one batch');
    assert.equal(s.emu.stats().apiCalls.total - calls0, 2, 'of two calls: a match query and a write');
  } finally {
    await s.close(); // before the schema goes
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});

test('fill-proportional linger: after a partial batch the next one starts no sooner than BATCH_LINGER_MS x its fill, so a trickle goes at once and heavy traffic fills whole batches', async () => {
  const { clock, s, b, loop } = gatedLoop({ maxUsers: 100, fillLingerMs: 1000 });
  s.queue.push(...Array.from({ length: 50 }, (_, i) => `h${i}`)); // half a batch: heavy traffic
  loop.start(1);
  await until('the half batch is claimed', () => b.running.length === 1);
  s.queue.push('late1', 'late2');
  b.running[0]!.release();
  await settle();
  assert.equal(b.running.length, 1, 'the next batch waits: a half-full batch lingers 1000 ms x 0.5');
  await clock.advance(499);
  assert.equal(b.running.length, 1, 'still waiting at 499 ms after the half batch started');
  await clock.advance(1);
  await until('claimed once 500 ms have passed since the half batch started', () => b.running.length === 2);
  assert.deepEqual(b.running[1]!.keys, ['late1', 'late2']);
  const started = clock.t;
  b.running[1]!.release(); // a batch of 2 users: fill 0.02, linger 20 ms
  await settle();
  await clock.advance(20);
  s.queue.push('trickle');
  loop.notify();
  await until('a trickle is claimed 20 ms after a 2-user batch', () => b.running.length === 3);
  assert.equal(clock.t - started, 20);
  b.running[2]!.release();
  await loop.stop();
});

test('a full batch waiting cuts the linger short: once BATCH_MAX_USERS events have arrived since the last claim, the next batch is claimed at once', async () => {
  const { clock, s, b, loop } = gatedLoop({ maxUsers: 10, fillLingerMs: 1000 });
  s.queue.push('a', 'b', 'c', 'd', 'e');
  loop.start(1);
  await until('the half batch is claimed', () => b.running.length === 1);
  b.running[0]!.release();
  await settle();
  for (let i = 0; i < 9; i++) {
    s.queue.push(`n${i}`);
    loop.notify(1);
  }
  await settle();
  assert.equal(b.running.length, 1, '9 arrivals of 10: the linger (500 ms) still holds');
  s.queue.push('n9');
  loop.notify(1);
  await until('the tenth arrival makes a full batch, claimed without waiting out the linger', () => b.running.length === 2);
  assert.equal(clock.t, 0, 'no timer had to fire');
  assert.equal(b.running[1]!.keys.length, 10);
  b.running[1]!.release();
  await loop.stop();
});

test('a full batch waiting is counted in users, as the batch is: several events of one person since the last claim count once', async () => {
  const { clock, s, b, loop } = gatedLoop({ maxUsers: 10, fillLingerMs: 1000 });
  s.queue.push('a', 'b', 'c', 'd', 'e');
  loop.start(1);
  await until('the half batch is claimed', () => b.running.length === 1);
  b.running[0]!.release();
  await settle();
  for (let i = 0; i < 9; i++) {
    s.queue.push(`n${i}`);
    loop.notify(1, `n${i}`);
    loop.notify(1, `n${i}`); // the same person again: the queue holds one user, not two
  }
  await settle();
  assert.equal(b.running.length, 1, '18 events from 9 people: 9 users of 10, the linger (500 ms) still holds');
  s.queue.push('n9');
  loop.notify(1, 'n9');
  await until('the tenth person makes a full batch, claimed without waiting out the linger', () => b.running.length === 2);
  assert.equal(clock.t, 0, 'no timer had to fire');
  assert.equal(b.running[1]!.keys.length, 10);
  b.running[1]!.release();
  await loop.stop();
});

test('a full batch claimed because a full batch of users had arrived is no backlog: the rate-aware linger follows it, not at once a part batch of what arrived meanwhile', async () => {
  const { clock, s, b, loop } = gatedLoop({ maxUsers: 10, fillLingerMs: 1000 });
  loop.start(1);
  await settle();
  const arrive = (k: string) => {
    s.queue.push(k);
    loop.notify(1, k);
  };
  for (let i = 0; i < 10; i++) arrive(`a${i}`);
  await until('the full batch is claimed', () => b.running.length === 1);
  for (let i = 0; i < 3; i++) arrive(`b${i}`);
  b.running[0]!.release();
  await settle();
  await clock.advance(299);
  assert.equal(b.running.length, 1, '3 users since the claim: they would fill a batch (10) within the linger (1000 ms) until 300 ms');
  await clock.advance(1);
  await until('claimed when the rate falls short', () => b.running.length === 2);
  assert.deepEqual(b.running[1]!.keys, ['b0', 'b1', 'b2']);
  b.running[1]!.release();
  await clock.advance(1000);
  // A backlog: the queue holds more than the loop saw arrive, so a full batch's loop claims the rest as soon as it ends.
  s.queue.push(...Array.from({ length: 13 }, (_, i) => `c${i}`));
  loop.notify();
  await until('a full batch of the backlog is claimed', () => b.running.length === 3);
  const t = clock.t;
  b.running[2]!.release();
  await until('the rest of the backlog follows at once, no linger', () => b.running.length === 4);
  assert.equal(clock.t, t);
  assert.equal(b.running[3]!.keys.length, 3);
  b.running[3]!.release();
  await loop.stop();
});

test('rate-aware linger: users arriving fast enough to fill a batch within BATCH_LINGER_MS of the last claim wait for that full batch (at most the linger), a few quick events do not', async () => {
  const { clock, b, loop, arrive } = gatedLoop({ maxUsers: 100, fillLingerMs: 1000 });
  loop.start(1);
  await settle();
  arrive(1);
  await until('the first event goes at once', () => b.running.length === 1);
  await clock.advance(100);
  arrive(20); // 20 users in 100 ms: 200/s, a batch of 100 within the 1000 ms linger
  b.running[0]!.release();
  await settle();
  await clock.advance(99);
  assert.equal(b.running.length, 1, 'not a part batch of 20: a full one is on its way');
  arrive(80);
  await until('claimed as soon as the batch is full', () => b.running.length === 2);
  assert.equal(b.running[1]!.keys.length, 100);
  assert.equal(clock.t, 199);
  b.running[1]!.release();
  await clock.advance(5000);
  // The wait lasts while the rate would fill a batch within the linger: 20 users fill 100 in 1000 ms until 200 ms after the claim.
  arrive(5);
  await until('5 users after a quiet spell: claimed at once', () => b.running.length === 3);
  const claimed = clock.t;
  await clock.advance(100);
  arrive(20);
  b.running[2]!.release();
  await settle();
  await clock.advance(99);
  assert.equal(b.running.length, 3, 'waiting: 20 users since the claim 199 ms ago would still fill a batch within 1000 ms');
  await clock.advance(1);
  await until('claimed once the rate falls short of a batch per linger', () => b.running.length === 4);
  assert.equal(clock.t - claimed, 200);
  assert.equal(b.running[3]!.keys.length, 20);
  b.running[3]!.release();
  await loop.stop();
});

test("rate-aware linger during a surge: a dip in arrivals does not claim a part batch before the next would have filled at the last full batch's pace; the tail then goes", async () => {
  const { clock, b, loop, arrive } = gatedLoop({ maxUsers: 10, fillLingerMs: 1000 });
  loop.start(1);
  await settle();
  arrive(10);
  await until('a full batch at once', () => b.running.length === 1);
  b.running[0]!.release();
  await settle();
  await clock.advance(200);
  arrive(5); // 25 users/s: a batch of 10 fills within the 1000 ms linger
  await clock.advance(200);
  arrive(5);
  await until('the second full batch, 400 ms after the first', () => b.running.length === 2);
  assert.equal(clock.t, 400);
  b.running[1]!.release();
  await settle();
  await clock.advance(300);
  arrive(3); // a dip: 3 users in 300 ms would, by rate alone, be claimed now
  await clock.advance(49);
  assert.equal(b.running.length, 2, 'no part batch of 3 while the last batch took 400 ms to fill');
  arrive(7);
  await until('the third full batch', () => b.running.length === 3);
  assert.equal(b.running[2]!.keys.length, 10);
  assert.equal(clock.t, 749);
  b.running[2]!.release();
  await settle();
  await clock.advance(50);
  arrive(4); // the surge ends: the tail waits for the last fill time (349 ms) or the rate (400 ms), whichever is longer
  await clock.advance(349);
  assert.equal(b.running.length, 3, 'the tail waits 400 ms after the last claim');
  await clock.advance(1);
  await until('the tail is claimed', () => b.running.length === 4);
  assert.equal(b.running[3]!.keys.length, 4);
  b.running[3]!.release();
  await loop.stop();
});

test('a full batch waiting still waits for the API budget before it is claimed: no lease is held while the budget is short', async () => {
  let budgetShort = true;
  const { clock, s, b, loop } = gatedLoop({ maxUsers: 3, fillLingerMs: 1000, budgetDelayMs: () => (budgetShort ? 500 : 0) });
  loop.start(2);
  s.queue.push('a', 'b', 'c');
  loop.notify(3);
  await clock.advance(2000);
  assert.deepEqual(s.claims, [], 'a full batch arrived, but the budget is short: nothing claimed, no lease taken');
  budgetShort = false;
  await clock.advance(500);
  await until('claimed once the budget holds the calls', () => b.running.length === 1);
  assert.deepEqual(b.running[0]!.keys, ['a', 'b', 'c']);
  b.running[0]!.release();
  await loop.stop();
});
