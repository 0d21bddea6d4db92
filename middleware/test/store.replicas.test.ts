// PostgreSQL, several replicas (issue 11, item 1): the same users' events appended through two
// stores on one schema WHILE two workers drain them. Every acknowledged event must be handed to a
// worker: nothing committed below a user's done watermark, and each user's newest event delivered.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres.ts';
import type { Store } from '../src/store/types.ts';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
const schemas: string[] = [];
after(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
});

/** Appends `events` over `users` through the replicas with `concurrency` posters while one worker per replica drains. */
export async function appendWhileDraining(replicas: Store[], o: { events: number; users: number; concurrency: number; seed: number }) {
  const acknowledged = new Map<string, string>(); // dedupe key -> user
  const delivered = new Set<string>();
  const newest = new Map<string, number>(); // user -> highest n acknowledged
  const newestDelivered = new Map<string, number>();
  let next = 0;
  let producing = true;
  let rnd = o.seed;
  const random = () => (rnd = (rnd * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const producer = async (k: number) => {
    while (next < o.events) {
      const n = next++;
      const user = `u${Math.floor(random() * o.users)}`;
      const key = `e${n}`;
      const store = replicas[(k + n) % replicas.length];
      await store.append([{ dedupeKey: key, userKey: user, type: 'event.created', occurredAt: new Date(1_700_000_000_000 + n).toISOString(), payload: { n } }]);
      acknowledged.set(key, user);
      newest.set(user, Math.max(newest.get(user) ?? -1, n));
    }
  };
  const worker = async (store: Store, id: string) => {
    for (;;) {
      const done = !producing;
      const claimed = await store.claim({ workerId: id, maxUsers: 20, maxEventsPerUser: 1000, leaseMs: 60_000 });
      for (const u of claimed) {
        for (const e of u.events) {
          delivered.add(e.dedupeKey);
          const n = (e.payload as { n: number }).n;
          newestDelivered.set(u.userKey, Math.max(newestDelivered.get(u.userKey) ?? -1, n));
        }
      }
      await store.complete(
        id,
        claimed.map((u) => ({ userKey: u.userKey, doneSeq: Math.max(0, ...u.events.map((e) => e.seq)), state: {}, written: {} })),
      );
      if (done && !claimed.length) return;
    }
  };
  const workers = replicas.map((s, i) => worker(s, `w${i}`));
  await Promise.all(Array.from({ length: o.concurrency }, (_, k) => producer(k)));
  producing = false;
  await Promise.all(workers);
  const lost = [...acknowledged.keys()].filter((k) => !delivered.has(k)).length;
  const stale = [...newest].filter(([u, n]) => newestDelivered.get(u) !== n).length;
  return { sent: o.events, acknowledged: acknowledged.size, delivered: delivered.size, lost, stale };
}

test('postgres, two replicas: events appended for the same users while workers drain are never lost', async () => {
  const schema = `replicas_${process.pid}_${Date.now() % 100000}`;
  schemas.push(schema);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const replicas = [new PostgresStore(PG_URL, { schema }), new PostgresStore(PG_URL, { schema })];
  try {
    await replicas[0].migrate();
    await replicas[1].migrate();
    const r = await appendWhileDraining(replicas, { events: 3000, users: 10, concurrency: 16, seed: 7 });
    assert.equal(r.acknowledged, r.sent);
    assert.equal(r.lost, 0, `lost ${r.lost} of ${r.acknowledged} acknowledged events`);
    assert.equal(r.stale, 0, `${r.stale} users never got their newest event`);
    const st = await replicas[0].stats();
    assert.equal(st.pendingEvents, 0);
  } finally {
    for (const s of replicas) await s.close();
  }
});
