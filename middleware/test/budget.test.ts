// ApiBudget against its promise (DESIGN.md "Budget"): over a day the service spends at most its
// share of the org's daily allocation (plus the one-hour burst the bucket holds), and it stops
// before the org itself runs out. The clock is injected: no test here waits on real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiBudget } from '../src/salesforce/budget.ts';

const DAY = 86_400_000;

/** A caller that calls whenever the budget lets it, for `ms` of simulated time. */
function spend(budget: ApiBudget, clock: { t: number }, ms: number, header: (calls: number) => string): number {
  const end = clock.t + ms;
  let calls = 0;
  while (clock.t < end) {
    const wait = budget.delayMs();
    if (wait > 0) {
      clock.t += wait;
      continue;
    }
    budget.take();
    calls++;
    budget.observe(header(calls));
  }
  return calls;
}

test('budget: a greedy caller spends no more than its daily share (plus one hour of burst) and close to it', () => {
  for (const [max, share] of [
    [15_000, 0.2],
    [100_000, 0.5],
    [1_000_000, 0.05],
  ]) {
    const clock = { t: 1_000_000 };
    const budget = new ApiBudget(share, () => clock.t);
    const calls = spend(budget, clock, DAY, (n) => `api-usage=${n}/${max}`);
    const allowed = max * share;
    assert.ok(calls <= allowed * (1 + 1 / 24) + 5, `${calls} calls in a day exceed the share ${allowed} of ${max}`);
    assert.ok(calls >= allowed * 0.95, `${calls} calls in a day: the budget starves the service (share ${allowed})`);
  }
});

test('budget: when the org as a whole is within 2 % of its allocation, every call waits, whatever our share', () => {
  const clock = { t: 0 };
  const budget = new ApiBudget(1, () => clock.t, 60_000);
  budget.observe('api-usage=100/15000');
  assert.equal(budget.delayMs(), 0);
  budget.observe('api-usage=14701/15000');
  assert.equal(budget.delayMs(), 60_000);
  budget.observe('api-usage=14000/15000');
  assert.equal(budget.delayMs(), 0, 'calls resume once the org has room again');
});

test('budget: REQUEST_LIMIT_EXCEEDED pauses every call until the pause ends', () => {
  const clock = { t: 0 };
  const budget = new ApiBudget(0.5, () => clock.t);
  budget.observe('api-usage=10/15000');
  budget.pause(30_000);
  assert.equal(budget.delayMs(), 30_000);
  clock.t += 29_999;
  assert.equal(budget.delayMs(), 1);
  clock.t += 1;
  assert.equal(budget.delayMs(), 0);
});

test('budget: before any Sforce-Limit-Info, a handful of calls go, then the caller waits', () => {
  const clock = { t: 0 };
  const budget = new ApiBudget(0.2, () => clock.t);
  let calls = 0;
  while (budget.delayMs() === 0 && calls < 100) {
    budget.take();
    calls++;
  }
  assert.equal(calls, 5);
  assert.ok(budget.delayMs() > 0);
});

test('budget: delayMs(n) is the wait until n calls may go (what a batch costs), never more than the bucket can hold', () => {
  const clock = { t: 0 };
  const budget = new ApiBudget(1, () => clock.t); // 86,400 calls a day for us: one a second, an hour (3,600) in the bucket
  budget.observe('api-usage=0/86400');
  while (budget.delayMs() === 0) budget.take();
  const short = 1 - budget.snapshot().tokens; // what is missing for one call
  assert.equal(budget.delayMs(1), Math.ceil(short * 1000));
  assert.equal(budget.delayMs(3), Math.ceil((short + 2) * 1000), 'three calls: two seconds more');
  assert.equal(budget.delayMs(10_000), Math.ceil((short + 3599) * 1000), 'capped at a full bucket, so it is reachable');
  clock.t += budget.delayMs(3);
  assert.equal(budget.delayMs(3), 0);
});
