// PostgreSQL group commit and lock order (issue 17, part 3), on a real server, each test in its own schema:
// appends of one tick share a transaction, yet one append PostgreSQL refuses fails alone, copies of a
// dedupe key inside one group are stored once, and appends, claims, completes and fails on overlapping
// users through two replicas never deadlock (every transaction locks user rows in byte order).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres.ts';
import { StoreUnavailableError, type NewEvent } from '../src/store/types.ts';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
const schemas: string[] = [];
after(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
});

async function freshSchema(): Promise<string> {
  const schema = `group_${process.pid}_${schemas.length}`;
  schemas.push(schema);
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  return schema;
}

const ev = (user: string, key: string, payload: NewEvent['payload'] = { key }): NewEvent => ({
  dedupeKey: key,
  userKey: user,
  type: 'event.created',
  occurredAt: '2026-11-01T10:00:00.000Z',
  payload,
});

async function pendingKeys(s: PostgresStore): Promise<string[]> {
  const claimed = await s.claim({ workerId: 'check', maxUsers: 100, maxEventsPerUser: 100, leaseMs: 60_000 });
  return claimed.flatMap((u) => u.events.map((e) => e.dedupeKey)).sort();
}

test('postgres group commit: an append PostgreSQL refuses fails alone; the appends sharing its transaction are stored', async () => {
  const s = new PostgresStore(PG_URL, { schema: await freshSchema() });
  try {
    await s.migrate();
    // jsonb refuses U+0000 ("unsupported Unicode escape sequence", PostgreSQL docs 8.14 JSON Types)
    const [good1, bad, good2] = await Promise.allSettled([
      s.append([ev('a', 'a1')]),
      s.append([ev('b', 'b1'), ev('b', 'b2', { note: 'a\u0000b' })]),
      s.append([ev('c', 'c1'), ev('c', 'c2')]),
    ]);
    assert.deepEqual(s.groupCommits, { groups: 1, appends: 3, split: 1 }, 'the three appends shared one group commit');
    assert.deepEqual(good1, { status: 'fulfilled', value: { stored: [true] } });
    assert.deepEqual(good2, { status: 'fulfilled', value: { stored: [true, true] } });
    assert.equal(bad.status, 'rejected');
    assert.ok((bad as PromiseRejectedResult).reason instanceof StoreUnavailableError);
    assert.deepEqual(await pendingKeys(s), ['a1', 'c1', 'c2'], 'nothing of the refused append is stored, all of the others is');
  } finally {
    await s.close();
  }
});

test('postgres group commit: copies of one dedupe key inside a group are stored once; a copy whose append failed does not hide the other', async () => {
  const s = new PostgresStore(PG_URL, { schema: await freshSchema() });
  try {
    await s.migrate();
    await s.append([ev('old', 'old1')]);
    const results = await Promise.allSettled([
      s.append([ev('d', 'd1')]),
      s.append([ev('d', 'd1'), ev('old', 'old1')]), // a copy from the same group, and a copy of a stored event
      s.append([ev('e', 'e1'), ev('e', 'e2', { note: '\u0000' })]), // refused: its e1 must not count as stored
      s.append([ev('e', 'e1')]),
    ]);
    assert.equal(s.groupCommits.groups, 2, 'the four appends after the first shared one group commit');
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value.stored : 'rejected')),
      [[true], [false, false], 'rejected', [true]],
    );
    assert.deepEqual(await pendingKeys(s), ['d1', 'e1', 'old1']);
  } finally {
    await s.close();
  }
});

test('postgres, two replicas: appends, claims, completes and fails on overlapping users in any order never deadlock and lose nothing', async () => {
  const schema = await freshSchema();
  const replicas = [new PostgresStore(PG_URL, { schema }), new PostgresStore(PG_URL, { schema })];
  try {
    await replicas[0].migrate();
    await replicas[1].migrate();
    const users = Array.from({ length: 6 }, (_, i) => `user-${i}`);
    let rnd = 11;
    const random = () => (rnd = (rnd * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const shuffled = () => [...users].sort(() => random() - 0.5).slice(0, 4);
    const acknowledged = new Set<string>();
    const delivered = new Set<string>();
    let n = 0;
    let producing = true;
    // each append carries several users in a different order: unordered row locks would cross
    const producer = async (k: number) => {
      for (let i = 0; i < 40; i++) {
        const events = shuffled().map((u) => ev(u, `k${n++}`));
        await replicas[k % 2].append(events);
        for (const e of events) acknowledged.add(e.dedupeKey);
      }
    };
    const worker = async (k: number) => {
      const s = replicas[k % 2];
      const id = `w${k}`;
      for (let round = 0; ; round++) {
        const draining = !producing;
        const claimed = await s.claim({ workerId: id, maxUsers: 4, maxEventsPerUser: 1000, leaseMs: 60_000 });
        for (const u of claimed) for (const e of u.events) delivered.add(e.dedupeKey);
        const done = claimed.map((u) => ({ userKey: u.userKey, doneSeq: Math.max(0, ...u.events.map((e) => e.seq)), state: {}, written: {} })).reverse();
        // every third round fails its users after folding their events (FailedUser.doneSeq), due at once
        if (round % 3 === 2)
          await s.fail(
            id,
            done.map((u) => ({ ...u, nextAttemptAt: new Date(0), error: 'UNABLE_TO_LOCK_ROW' })),
          );
        else assert.equal((await s.complete(id, done)).length, done.length);
        if (draining && !claimed.length) return;
      }
    };
    const workers = Array.from({ length: 4 }, (_, k) => worker(k));
    await Promise.all(Array.from({ length: 12 }, (_, k) => producer(k)));
    producing = false;
    await Promise.all(workers);
    // a deadlock (40P01) would fail a complete() or fail() above, or a group commit (then retried one append at a time)
    assert.deepEqual(
      replicas.map((s) => s.groupCommits.split),
      [0, 0],
      'no group commit failed',
    );
    assert.equal(acknowledged.size, 12 * 40 * 4);
    assert.deepEqual(
      [...acknowledged].filter((k) => !delivered.has(k)),
      [],
      'every acknowledged event was handed to a worker',
    );
  } finally {
    for (const s of replicas) await s.close();
  }
});
