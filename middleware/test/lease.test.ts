// Lease renewal (issue 11, item 7): a batch that waits on slow writes (or on the API budget) can
// outlive LEASE_MS. While it is in flight its leases are renewed, so no other worker takes its users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { stacksClosedAfterFile } from './support/stacks.ts';
import { eventCreated, PURPOSE } from '../../test/support/didomi-events.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { ClaimOptions } from '../src/store/types.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const stack = stacksClosedAfterFile();

/** A real SQLite store on an injected clock that reports its claims and lease renewals. */
class ObservedStore extends SqliteStore {
  readonly events = new EventEmitter();
  override async claim(o: ClaimOptions) {
    const users = await super.claim(o);
    if (users.length)
      this.events.emit(
        'claimed',
        o.workerId,
        users.map((u) => u.userKey),
      );
    return users;
  }
  override async extendLeases(workerId: string, userKeys: string[], leaseMs: number) {
    const kept = await super.extendLeases(workerId, userKeys, leaseMs);
    this.events.emit('extended', workerId, kept);
    return kept;
  }
}

test('a batch in flight past LEASE_MS keeps its leases: a second worker cannot claim its users', async () => {
  let clock = Date.now();
  let store: ObservedStore | undefined;
  const leaseMs = 600;
  const s = await stack({
    env: { LEASE_MS: String(leaseMs), SF_REQUEST_TIMEOUT_MS: '30000' },
    makeStore: (env) => (store = new ObservedStore(env.SQLITE_PATH, { now: () => clock })),
  });
  const user = 'slow@example.com';
  s.emu.seed({ Lead: [{ LastName: 'Slow', Company: 'Acme', Email: user }] });
  assert.equal((await s.post(eventCreated('warm@example.com', new Date(), { purposes: { [PURPOSE]: true } }))).status, 202);
  await s.waitForDrain(); // the configuration is loaded and the token cached
  await s.emu.setFaults({ hold: true }); // every Salesforce call of the next batch waits until the test lets it go
  let claims = 0;
  const claimed = new Promise<void>((resolve) =>
    store!.events.on('claimed', (_w: string, keys: string[]) => {
      if (!keys.includes(user)) return;
      claims++;
      resolve();
    }),
  );
  let renewed = 0;
  store!.events.on('extended', (_w: string, kept: string[]) => {
    if (kept.includes(user)) renewed++;
  });
  assert.equal((await s.post(eventCreated(user, new Date(), { purposes: { [PURPOSE]: false } }))).status, 202);
  await claimed;
  // Time (the store's clock) moves half a lease after each renewal, four times: two leases past the original one.
  for (let renewals = 0; renewals < 4; renewals++) {
    const seen = renewed;
    await waitFor('a renewal of the lease while the batch is in flight', () => renewed > seen);
    clock += leaseMs / 2;
  }
  const intruder = await store!.claim({ workerId: 'second-worker', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
  const [lead] = (await s.records('Lead')).filter((r) => r.Email === user);
  assert.equal(lead.HasOptedOutOfEmail, false, 'the batch is still in flight (its write has not landed), so the checks below mean something');
  assert.deepEqual(
    intruder.map((u) => u.userKey),
    [],
    'a second worker claimed a user whose batch is in flight',
  );
  assert.equal(claims, 1, 'the user was claimed again by another worker loop while in flight');
  await s.emu.setFaults({ hold: false });
  await s.waitForDrain(20_000);
  const [done] = (await s.records('Lead')).filter((r) => r.Email === user);
  assert.equal(done.HasOptedOutOfEmail, true, 'the withdrawal lands');
});
