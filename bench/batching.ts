// How the worker loop's rules batch the benchmark's arrivals, whatever the machine's speed: the real
// WorkerLoop (two workers, BATCH_MAX_USERS 1000, BATCH_LINGER_MS 2000) on a virtual clock, fed the
// benchmark's workload (seed 7) as npm run bench posts it: 100/s for 20 s, then 1,000/s for 10 s;
// redeliveries are not stored. A batch lasts a modelled time (by default two 100 ms round trips plus
// 50 ms, and 0.5 ms per user) and costs two API calls (a match and a write: every batch of that phase
// holds people not linked yet). Prints the 1,000/s phase's batches: their number, users each, and the
// calls per 1,000 events that follows (what npm run bench's 1,000/s phase measures, without its load).
//   node bench/batching.ts [--fixed-ms 250] [--per-user-ms 0.5] [--workers 2]
import { parseArgs } from 'node:util';
import { WorkerLoop, type LoopTimers } from '../middleware/src/sync/worker-loop.ts';
import { createLogger } from '../middleware/src/observability/logger.ts';
import type { ClaimedUser } from '../middleware/src/store/types.ts';
import { makeWorkload } from '../test/support/didomi-workload.ts';

const { values: a } = parseArgs({
  options: { 'fixed-ms': { type: 'string', default: '250' }, 'per-user-ms': { type: 'string', default: '0.5' }, workers: { type: 'string', default: '2' } },
});
const fixedMs = Number(a['fixed-ms']);
const perUserMs = Number(a['per-user-ms']);

let now = 0;
let seq = 0;
const due = new Map<number, { at: number; fn: () => void }>();
const timers: LoopTimers = {
  setTimeout: (fn, ms) => {
    due.set(++seq, { at: now + ms, fn });
    return seq;
  },
  clearTimeout: (h) => void due.delete(h as number),
};
const turn = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};
/** Moves the virtual clock to `end`, firing each timer due on the way in order. */
async function advanceTo(end: number) {
  for (;;) {
    const next = [...due.entries()].filter(([, d]) => d.at <= end).sort((x, y) => x[1].at - y[1].at)[0];
    if (!next) break;
    due.delete(next[0]);
    now = Math.max(now, next[1].at);
    next[1].fn();
    await turn();
  }
  now = end;
  await turn();
}

// The store's inbox: users with pending events, in arrival order; a leased user's new events wait for its lease's end.
const queued = new Map<string, number>(); // user -> when their oldest unclaimed event arrived
const waits: Record<string, number[]> = {}; // per phase: each claimed user's wait from arrival to claim
const leased = new Set<string>();
const batches: { at: number; users: number; phase: string }[] = [];
let phase = '100/s';
const store = {
  claim: async (o: { maxUsers: number }) => {
    const got = [...queued.keys()].filter((u) => !leased.has(u)).slice(0, o.maxUsers);
    for (const u of got) {
      (waits[phase] ??= []).push(now - queued.get(u)!);
      queued.delete(u);
      leased.add(u);
    }
    if (got.length) batches.push({ at: now, users: got.length, phase });
    return got.map((userKey): ClaimedUser => ({ userKey, state: null, written: null, attempts: 0, firstFailedAt: null, events: [] }));
  },
  extendLeases: async (_w: string, keys: string[]) => keys,
};
const loop = new WorkerLoop({
  store,
  workerId: 'w',
  logger: createLogger('silent'),
  maxUsers: 1000,
  leaseMs: 600_000,
  fillLingerMs: 2000,
  idlePollMs: 1000,
  ready: () => true,
  timers,
  now: () => now,
  process: (users) =>
    new Promise<number>((done) =>
      timers.setTimeout(
        () => {
          for (const u of users) leased.delete(u.userKey);
          done(2);
        },
        fixedMs + perUserMs * users.length,
      ),
    ),
});
loop.start(Number(a.workers));
await turn();

const items = makeWorkload({ events: 12_000, users: 10_000, seed: 7 });
const phases: [string, number, typeof items][] = [
  ['100/s', 100, items.slice(0, 2000)],
  ['1000/s', 1000, items.slice(2000, 12_000)],
];
for (const [name, rate, slice] of phases) {
  phase = name;
  const start = now;
  for (const [i, it] of slice.entries()) {
    await advanceTo(start + (i * 1000) / rate);
    if (it.duplicate) continue; // acknowledged, not stored: no notify
    if (!queued.has(it.user)) queued.set(it.user, now);
    loop.notify(1, it.user);
    await turn();
  }
  while (queued.size || leased.size) await advanceTo(now + 50); // drained, like the benchmark waits
}
const b = batches.filter((x) => x.phase === '1000/s');
const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
console.log(`batch duration model: ${fixedMs} ms + ${perUserMs} ms per user; ${a.workers} workers`);
for (const [name] of phases)
  console.log(
    `${name}: ${batches.filter((x) => x.phase === name).length} batches; wait from arrival to claim p50 ${pct(waits[name], 50).toFixed(0)} ms, p99 ${pct(waits[name], 99).toFixed(0)} ms`,
  );
console.log(`1,000/s phase: ${b.length} batches, users each: ${b.map((x) => x.users).join(' ')}`);
console.log(`API calls per 1,000 events (2 a batch): ${((b.length * 2 * 1000) / 10_000).toFixed(2)}`);
await loop.stop();
