// Losing the database (issue 11, item 2) on a PostgreSQL server this test starts, kills, restarts
// and disconnects (test/support/pg-server.ts): the store never crashes the process, refuses appends
// with StoreUnavailableError while the database is away, and works again by itself afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPgServer, type PgServer } from '../../test/support/pg-server.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { StoreUnavailableError, type NewEvent } from '../src/store/types.ts';

let server: PgServer | undefined;
after(async () => {
  await server?.stop();
});

const ev = (n: number): NewEvent => ({ dedupeKey: `k${n}`, userKey: `u${n % 7}`, type: 'event.created', occurredAt: new Date().toISOString(), payload: { n } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'postgres store: SIGKILL, restart and pg_terminate_backend (57P01) under load never crash the process; nothing acknowledged is lost',
  { timeout: 120_000 },
  async () => {
    server = await startPgServer();
    const store = new PostgresStore(server.url, { max: 8 });
    await store.migrate();
    const uncaught: Error[] = [];
    const onUncaught = (e: Error) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const acknowledged = new Set<string>();
    let refused = 0;
    let other = 0;
    let n = 0;
    let running = true;
    const load = async () => {
      while (running) {
        const e = ev(n++);
        try {
          await store.append([e]);
          acknowledged.add(e.dedupeKey);
        } catch (err) {
          if (err instanceof StoreUnavailableError) refused++;
          else other++;
          await sleep(20);
        }
        // workers too: a claim/complete transaction is often open when the connection goes
        await store
          .claim({ workerId: 'w', maxUsers: 5, maxEventsPerUser: 100, leaseMs: 60_000 })
          .then((c) =>
            store.complete(
              'w',
              c.map((u) => ({ userKey: u.userKey, doneSeq: 0, state: {}, written: {} })),
            ),
          )
          .catch(() => undefined);
      }
    };
    try {
      const loaders = Array.from({ length: 6 }, load);
      const acknowledgedMore = async (count: number) => {
        const target = acknowledged.size + count;
        await waitFor(`${count} more appends acknowledged`, () => acknowledged.size >= target, 60_000);
      };
      await acknowledgedMore(50);
      for (let round = 0; round < 3; round++) {
        await server.terminateBackends(); // 57P01 to every connection, idle in the pool or in a transaction
        await acknowledgedMore(50);
      }
      await server.kill('SIGKILL');
      await assert.rejects(store.ping(), 'the store reports the database as away');
      await assert.rejects(store.append([ev(1e9)]), StoreUnavailableError);
      await waitFor('the load refused while the database is away', () => refused > 0);
      await server.start();
      await acknowledgedMore(50); // reconnected by itself
      running = false;
      await Promise.all(loaders);
    } finally {
      running = false;
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(
      uncaught.map((e) => e.message),
      [],
      'no uncaught error (a checked-out client without an error listener kills the process)',
    );
    assert.equal(other, 0, 'every failed append is a StoreUnavailableError (503)');
    assert.ok(refused > 0, 'appends were refused while the database was away');
    await store.ping();
    const stored = new Set((await store.pool.query('SELECT dedupe_key FROM inbox')).rows.map((r) => r.dedupe_key as string));
    const lost = [...acknowledged].filter((k) => !stored.has(k));
    assert.equal(lost.length, 0, `acknowledged but not stored: ${lost.slice(0, 5)}`);
    await store.close();
  },
);
