// One contract for both store engines (src/store/types.ts); run by store.sqlite.test.ts and store.postgres.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NewEvent, Store } from '../src/store/types.ts';
import { pruneOnce } from '../src/sync/retention.ts';

const ev = (user: string, n: number): NewEvent => ({
  dedupeKey: `${user}-${n}`,
  userKey: user,
  type: 'event.created',
  occurredAt: new Date(1_700_000_000_000 + n).toISOString(),
  payload: { n },
});

/** `open` builds a fresh store; with `now`, the store reads that clock (leases, due times) instead of Date.now. */
export interface ContractOptions {
  /** Bytes the store occupies (file + WAL, or table + index sizes after a VACUUM). */
  bytes?: (s: Store) => Promise<number>;
}

export function storeContract(
  name: string,
  open: (o?: { now?: () => number }) => Promise<Store>,
  reopen?: (s: Store) => Promise<Store>,
  opts: ContractOptions = {},
) {
  test(`${name}: append stores once, acknowledges redeliveries`, async () => {
    const s = await open();
    const r = await s.append([ev('a', 1), ev('a', 2), ev('a', 1)]);
    assert.deepEqual(r.stored, [true, true, false]);
    const again = await Promise.all([s.append([ev('a', 2)]), s.append([ev('b', 1)])]);
    assert.deepEqual(
      again.map((x) => x.stored[0]),
      [false, true],
    );
    const st = await s.stats();
    assert.equal(st.pendingEvents, 3);
    assert.equal(st.pendingUsers, 2);
    await s.close();
  });

  test(`${name}: copies of an event appended in the same instant (one group commit) are stored once`, async () => {
    const s = await open();
    const r = await Promise.all([s.append([ev('g', 1)]), s.append([ev('g', 1), ev('g', 2)]), s.append([ev('g', 2)])]);
    assert.deepEqual(
      r.map((x) => x.stored),
      [[true], [false, true], [false]],
    );
    assert.equal((await s.stats()).pendingEvents, 2);
    await s.close();
  });

  if (reopen) {
    test(`${name}: an acknowledged append survives reopening the store`, async () => {
      const s = await open();
      await s.append([ev('durable', 1)]);
      const s2 = await reopen(s);
      const claimed = await s2.claim({ workerId: 'w', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 10_000 });
      assert.deepEqual(
        claimed.map((c) => c.userKey),
        ['durable'],
      );
      await s2.close();
    });
  }

  test(`${name}: claims lease users exclusively; complete, fail, release, requeue`, async () => {
    const s = await open();
    await s.append([ev('u1', 1), ev('u2', 1), ev('u3', 1)]);
    const [w1, w2] = await Promise.all([
      s.claim({ workerId: 'w1', maxUsers: 2, maxEventsPerUser: 10, leaseMs: 60_000 }),
      s.claim({ workerId: 'w2', maxUsers: 2, maxEventsPerUser: 10, leaseMs: 60_000 }),
    ]);
    const keys = [...w1, ...w2].map((c) => c.userKey).sort();
    assert.deepEqual(keys, ['u1', 'u2', 'u3'], 'every user claimed exactly once');
    // an event arriving while a user is leased stays pending for the next claim
    const first = w1[0];
    await s.append([ev(first.userKey, 2)]);
    assert.deepEqual(await s.complete('w1', [{ userKey: first.userKey, doneSeq: first.events.at(-1)!.seq, state: { s: 1 }, written: { w: 1 } }]), [
      first.userKey,
    ]);
    assert.deepEqual(
      await s.complete('someone-else', [{ userKey: w2[0]?.userKey ?? 'none', doneSeq: 99, state: {}, written: {} }]),
      [],
      'a worker without the lease cannot complete',
    );
    const next = await s.claim({ workerId: 'w3', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
    assert.deepEqual(
      next.map((c) => c.userKey),
      [first.userKey],
    );
    assert.deepEqual(next[0].state, { s: 1 });
    assert.deepEqual(next[0].written, { w: 1 });
    assert.equal(next[0].events.length, 1, 'only the new event');
    // fail schedules a retry with attempts + 1
    await s.fail('w3', [{ userKey: first.userKey, nextAttemptAt: new Date(Date.now() - 1), error: 'UNABLE_TO_LOCK_ROW' }]);
    const retried = await s.claim({ workerId: 'w3', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
    assert.deepEqual(
      retried.map((c) => [c.userKey, c.attempts, c.written]),
      [[first.userKey, 1, null]],
      'a failed run forgets the written cache',
    );
    await s.fail('w3', [{ userKey: first.userKey, nextAttemptAt: new Date(Date.now() + 60_000), error: 'UNABLE_TO_LOCK_ROW' }]);
    assert.equal((await s.claim({ workerId: 'w3', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 1 })).length, 0, 'not due yet, others still leased');
    await s.release('w1');
    await s.release('w2');
    const released = await s.claim({ workerId: 'w4', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
    assert.equal(released.length, 2);
    for (const c of released) await s.complete('w4', [{ userKey: c.userKey, doneSeq: c.events.at(-1)!.seq, state: {}, written: { x: 1 } }]);
    await s.requeue([released[0].userKey]);
    const forced = await s.claim({ workerId: 'w5', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
    assert.deepEqual(
      forced.map((c) => [c.userKey, c.events.length, c.written]),
      [[released[0].userKey, 0, null]],
      'requeue forgets the written cache',
    );
    await s.close();
  });

  test(`${name}: complete saves state and written exactly, whatever they hold`, async () => {
    // PostgreSQL sends a batch's states as one JSON document (issue 17, peak RSS): quotes, backslashes,
    // non-ASCII text, nested nulls and a null written cache must come back as they went in.
    const s = await open();
    await s.append([ev('odd "user" \\ é', 1), ev('plain', 1)]);
    const c = await s.claim({ workerId: 'w', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
    const state = { q: 'a "quoted" \\ back\\slash', u: 'é ✓ 𝄞', n: null, a: [1, '2', { b: false }], deep: { x: { y: 'z' } } };
    const done = c.map((u) => ({
      userKey: u.userKey,
      doneSeq: u.events.at(-1)!.seq,
      state: u.userKey === 'plain' ? {} : state,
      written: u.userKey === 'plain' ? null : { rec: { 'F"1': 'v\n' } },
    }));
    assert.deepEqual((await s.complete('w', done)).sort(), ['odd "user" \\ é', 'plain'].sort());
    await s.append([ev('odd "user" \\ é', 2), ev('plain', 2)]);
    const next = await s.claim({ workerId: 'w2', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
    const by = new Map(next.map((u) => [u.userKey, u]));
    assert.deepEqual(by.get('odd "user" \\ é')?.state, state);
    assert.deepEqual(by.get('odd "user" \\ é')?.written, { rec: { 'F"1': 'v\n' } });
    assert.deepEqual(by.get('plain')?.state, {});
    assert.equal(by.get('plain')?.written, null);
    assert.deepEqual(
      by.get('odd "user" \\ é')?.events.map((e) => e.dedupeKey),
      ['odd "user" \\ é-2'],
      'events up to doneSeq are done',
    );
    await s.close();
  });

  test(`${name}: an expired lease is reclaimed (a dead worker loses nothing)`, async () => {
    let clock = 1_800_000_000_000; // the store's clock moves, not the test's: no sleep, whatever the machine's speed
    const s = await open({ now: () => clock });
    await s.append([ev('lease', 1)]);
    const first = await s.claim({ workerId: 'w', maxUsers: 1, maxEventsPerUser: 10, leaseMs: 60_000 });
    await s.complete('w', [{ userKey: 'lease', doneSeq: first[0].events[0].seq, state: { s: 1 }, written: { rec: { F: true } } }]);
    await s.append([ev('lease', 2)]);
    const a = await s.claim({ workerId: 'dead', maxUsers: 1, maxEventsPerUser: 10, leaseMs: 50 });
    assert.equal(a.length, 1);
    assert.deepEqual(a[0].written, { rec: { F: true } });
    clock += 49;
    assert.equal((await s.claim({ workerId: 'alive', maxUsers: 1, maxEventsPerUser: 10, leaseMs: 60_000 })).length, 0, 'still leased 1 ms before the end');
    clock += 1;
    const b = await s.claim({ workerId: 'alive', maxUsers: 1, maxEventsPerUser: 10, leaseMs: 60_000 });
    assert.deepEqual(
      b.map((c) => c.userKey),
      ['lease'],
    );
    assert.equal(b[0].written, null, 'the dead worker may have written records: the written cache is forgotten');
    assert.deepEqual(await s.complete('dead', [{ userKey: 'lease', doneSeq: 1e9, state: {}, written: {} }]), [], 'the dead worker cannot complete any more');
    await s.close();
  });

  test(`${name}: a change event stream has one lease holder at a time; only the holder saves its position`, async () => {
    const s = await open();
    assert.equal(await s.reversePosition('cdc:Lead'), null);
    assert.equal(await s.holdReverseLease('cdc:Lead', 'a', 1000, 10_000), true);
    assert.equal(await s.holdReverseLease('cdc:Lead', 'b', 1000, 10_500), false, 'a live lease of another holder');
    assert.equal(await s.holdReverseLease('cdc:Contact', 'b', 1000, 10_500), true, 'streams are independent');
    assert.equal(await s.holdReverseLease('cdc:Lead', 'a', 1000, 10_900), true, 'the holder renews');
    assert.equal(await s.saveReversePosition('cdc:Lead', 'a', { replayId: 'AAAAAAAAAAE=', commitAt: 123 }), true);
    assert.equal(await s.saveReversePosition('cdc:Lead', 'b', { replayId: 'AAAAAAAAAAk=', commitAt: 999 }), false, 'not the holder');
    assert.deepEqual(await s.reversePosition('cdc:Lead'), { replayId: 'AAAAAAAAAAE=', commitAt: 123 });
    assert.equal(await s.holdReverseLease('cdc:Lead', 'b', 1000, 12_000), true, 'an expired lease is taken over');
    assert.equal(await s.saveReversePosition('cdc:Lead', 'a', { replayId: 'AAAAAAAAAAI=', commitAt: 456 }), false, 'the old holder is fenced off');
    await s.releaseReverseLease('cdc:Lead', 'b');
    assert.equal(await s.holdReverseLease('cdc:Lead', 'a', 1000, 12_001), true, 'a released lease is free at once');
    assert.deepEqual(await s.reversePosition('cdc:Lead'), { replayId: 'AAAAAAAAAAE=', commitAt: 123 }, 'the position outlives its holders');
    await s.close();
  });

  test(`${name}: dead letters, meta and events-per-user cap`, async () => {
    const s = await open();
    await s.addDeadLetters([
      { key: 'k1', userKey: 'u', payload: { code: 'X' } },
      { key: 'k2', userKey: 'u', payload: { code: 'Y' } },
    ]);
    assert.equal((await s.unsyncedDeadLetters(10)).length, 2);
    await s.markDeadLettersSynced(['k1']);
    assert.deepEqual(
      (await s.unsyncedDeadLetters(10)).map((d) => d.key),
      ['k2'],
    );
    assert.equal((await s.stats()).deadLettersUnsynced, 1);
    await s.append(Array.from({ length: 5 }, (_, i) => ev('many', i)));
    const c = await s.claim({ workerId: 'w', maxUsers: 1, maxEventsPerUser: 3, leaseMs: 60_000 });
    assert.equal(c[0].events.length, 3);
    await s.complete('w', [{ userKey: 'many', doneSeq: c[0].events[2].seq, state: {}, written: {} }]);
    const rest = await s.claim({ workerId: 'w', maxUsers: 1, maxEventsPerUser: 3, leaseMs: 60_000 });
    assert.equal(rest[0].events.length, 2, 'the rest stays pending');
    await s.close();
  });

  test(`${name}: with pruning after RETENTION_DAYS the store stays flat over a long run; failing users and dead letters are kept`, async () => {
    const day = 86_400_000;
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const s = await open({ now: () => clock });
    const retentionDays = 7;
    const perRound = 200;
    const rows: number[] = [];
    const bytes: number[] = [];
    await s.addDeadLetters([{ key: 'dl', userKey: 'u0', payload: { code: 'X' } }]);
    for (let round = 0; round < 40; round++) {
      clock += day;
      await s.append(Array.from({ length: perRound }, (_, i) => ({ ...ev(`u${i % 50}`, round * perRound + i), payload: { pad: 'x'.repeat(1000), i } })));
      // 'stuck' fails every time: its events must stay until it is written
      if (round === 0) await s.append([ev('stuck', 1)]);
      for (let c; (c = await s.claim({ workerId: 'w', maxUsers: 100, maxEventsPerUser: 1000, leaseMs: 60_000 })).length;) {
        const ok = c.filter((u) => u.userKey !== 'stuck');
        await s.complete(
          'w',
          ok.map((u) => ({ userKey: u.userKey, doneSeq: u.events.at(-1)?.seq ?? 0, state: {}, written: {} })),
        );
        const stuck = c.find((u) => u.userKey === 'stuck');
        if (stuck) await s.fail('w', [{ userKey: 'stuck', nextAttemptAt: new Date(clock + day / 2), error: 'UNABLE_TO_LOCK_ROW' }]);
      }
      await pruneOnce({ store: s, retentionDays, now: () => clock });
      rows.push(await inboxRows(s));
      if (opts.bytes) bytes.push(await opts.bytes(s));
    }
    // rounds received in the last 7 days plus the cutoff's own day are kept: 8 rounds, plus the stuck user's event
    const steady = (retentionDays + 1) * perRound + 1;
    assert.deepEqual(rows.slice(retentionDays + 1), Array(rows.length - retentionDays - 1).fill(steady), 'row count flat once the retention is reached');
    if (bytes.length) {
      const at15 = bytes[14];
      const last = bytes.at(-1)!;
      assert.ok(last <= at15 * 1.25, `store size flat: ${at15} bytes after 15 rounds, ${last} after 40 (${JSON.stringify(bytes)})`);
    }
    if (process.env.SHOW_SIZES) console.log(name, JSON.stringify({ rows, bytes })); // the figures for the README
    const st = await s.stats();
    assert.equal(st.pendingEvents, 1, "the failing user's event is still pending, not pruned");
    assert.equal((await s.unsyncedDeadLetters(10)).length, 1, 'dead letters are never pruned');
    await s.close();
  });
}

/** Inbox rows, read through the store's own connection (engine-specific; tests only). */
async function inboxRows(s: Store): Promise<number> {
  if (s.engine === 'sqlite') return Number(((s as any).db.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n);
  return Number((await (s as any).pool.query('SELECT count(*) AS n FROM inbox')).rows[0].n);
}
