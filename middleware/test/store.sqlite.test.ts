import { mkdtempSync, existsSync, fstatSync, statSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore, syncWalFile } from '../src/store/sqlite.ts';
import { storeContract } from './store.contract.ts';
import { StoreUnavailableError, type NewEvent } from '../src/store/types.ts';

const paths = new WeakMap<object, string>();
storeContract(
  'sqlite',
  async (o = {}) => {
    const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
    const s = new SqliteStore(path, o);
    paths.set(s, path);
    await s.migrate();
    return s;
  },
  async (s) => {
    const path = paths.get(s)!;
    await s.close();
    const again = new SqliteStore(path);
    await again.migrate();
    return again;
  },
  {
    // The database file after a checkpoint: the WAL grows to the checkpoint threshold (~32 MB) whatever
    // the store holds, and is bounded by it (the checkpoint test below); what must stay flat is the data.
    bytes: async (s) => {
      const path = paths.get(s)!;
      (s as any).db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      return statSync(path).size + (existsSync(path + '-wal') ? statSync(path + '-wal').size : 0);
    },
  },
);

test('sqlite: WAL, synchronous=NORMAL (the store syncs the WAL itself), exclusive (no memory-mapped WAL index); another process cannot open the file', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const s = new SqliteStore(path);
  await s.migrate();
  await s.append([{ dedupeKey: 'k', userKey: 'u', type: 'event.created', occurredAt: new Date().toISOString(), payload: {} }]);
  const db = (s as any).db as DatabaseSync;
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.equal((db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 1);
  assert.equal((db.prepare('PRAGMA locking_mode').get() as { locking_mode: string }).locking_mode, 'exclusive');
  assert.equal(existsSync(path + '-shm'), false, 'no -shm file to memory-map');
  // a second process (busy_timeout 0) is refused while this one holds the file
  const child = spawnSync(process.execPath, [
    '-e',
    `const {DatabaseSync}=require('node:sqlite');const d=new DatabaseSync(${JSON.stringify(path)});process.stdout.write(String(d.prepare('SELECT count(*) AS n FROM inbox').get().n))`,
  ]);
  assert.notEqual(child.status, 0, 'the reader failed');
  assert.equal(String(child.stdout), '', 'and read nothing');
  assert.match(String(child.stderr), /database is locked/);
  await s.close();
});

test('sqlite: a new file gets 2 KiB pages (fewer bytes through the WAL per commit), an existing one keeps its own; both checkpoint at ~32 MB of WAL (fewer checkpoints holding the event loop)', async () => {
  const pragma = (s: SqliteStore, name: string) => Object.values((s as any).db.prepare(`PRAGMA ${name}`).get())[0];
  const fresh = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const s = new SqliteStore(fresh);
  await s.migrate();
  assert.equal(pragma(s, 'page_size'), 2048);
  assert.equal(pragma(s, 'wal_autocheckpoint'), 16384);
  assert.equal(pragma(s, 'synchronous'), 1, 'NORMAL: the store syncs the WAL after each commit itself');
  await s.close();
  const again = new SqliteStore(fresh);
  await again.migrate();
  assert.equal(pragma(again, 'page_size'), 2048);
  await again.close();
  // A database made before (4 KiB pages, WAL) opens as it is: WAL fixes the page size.
  const old = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const d = new DatabaseSync(old);
  d.exec('PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x)');
  d.close();
  const o = new SqliteStore(old);
  await o.migrate();
  await o.append([{ dedupeKey: 'k', userKey: 'u', type: 'event.created', occurredAt: new Date().toISOString(), payload: {} }]);
  assert.equal(pragma(o, 'page_size'), 4096);
  assert.equal(pragma(o, 'wal_autocheckpoint'), 8192);
  await o.close();
});

test('sqlite: an acknowledged append survives SIGKILL (no close, no checkpoint)', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const storeUrl = new URL('../src/store/sqlite.ts', import.meta.url).href;
  // the child acknowledges like the webhook does (append resolved), then is killed before it can close the store
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { SqliteStore } from ${JSON.stringify(storeUrl)};
       const s = new SqliteStore(${JSON.stringify(path)});
       await s.migrate();
       await s.append([{ dedupeKey: 'acked', userKey: 'u', type: 'event.created', occurredAt: new Date().toISOString(), payload: { n: 1 } }]);
       process.stdout.write('acked\\n');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  let out = '';
  for await (const chunk of child.stdout!) {
    out += chunk;
    if (out.includes('acked')) break;
  }
  assert.equal(out, 'acked\n');
  assert.ok(statSync(path + '-wal').size > 0, 'the acknowledged row is in the WAL, not checkpointed into the file');
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  assert.deepEqual([code, signal], [null, 'SIGKILL']);
  const again = new SqliteStore(path);
  await again.migrate();
  const claimed = await again.claim({ workerId: 'w', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 });
  assert.deepEqual(
    claimed.flatMap((c) => c.events.map((e) => e.dedupeKey)),
    ['acked'],
  );
  await again.close();
});

test('sqlite: group commit puts concurrent appends in one transaction', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const s = new SqliteStore(path);
  await s.migrate();
  // count the transactions the store opens (every write goes through BEGIN IMMEDIATE)
  const db = (s as any).db as DatabaseSync;
  const exec = db.exec.bind(db);
  const begins: string[] = [];
  db.exec = (sql: string) => {
    if (/^BEGIN/i.test(sql)) begins.push(sql);
    return exec(sql);
  };
  const n = 500;
  const event = (i: number, payload: unknown = { i }) =>
    ({ dedupeKey: `k${i}`, userKey: `u${i % 50}`, type: 'event.created', occurredAt: new Date().toISOString(), payload }) as NewEvent;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => s.append([event(i)])));
  assert.equal(results.filter((r) => r.stored[0]).length, n);
  assert.equal(begins.length, 1, `transactions for ${n} concurrent appends: ${begins.length}`);
  assert.equal((await s.stats()).pendingEvents, n);
  // one append of the group that cannot be stored fails alone (issue 11 item 5): the others of its group commit
  const group = await Promise.allSettled([s.append([event(1000)]), s.append([event(1001, { big: 1n } as unknown)]), s.append([event(1002)])]);
  assert.deepEqual(
    group.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal(begins.length, 2, 'the second group is one transaction too');
  assert.equal((await s.stats()).pendingEvents, n + 2, 'the two honest appends of the group were stored');
  await s.close();
});

// The COMMIT's fsync used to block the event loop (issue 17: about a third of the service's busy time at
// full speed). SQLite now commits with synchronous=NORMAL (write to the WAL, no sync) and the store syncs
// the -wal file itself in libuv's thread pool, resolving a write only once a sync that started after its
// commit has succeeded: what synchronous=FULL does at COMMIT (https://www.sqlite.org/pragma.html#pragma_synchronous).
const ev = (i: number | string, payload: unknown = { i }) =>
  ({ dedupeKey: `k${i}`, userKey: `u${i}`, type: 'event.created', occurredAt: new Date().toISOString(), payload }) as NewEvent;
/** A syncWal stand-in whose calls are held until the test settles them. */
function heldSync() {
  const calls: { fd: number; settle: (e?: Error) => void }[] = [];
  const waiting: ((n: number) => void)[] = [];
  const syncWal = (fd: number) =>
    new Promise<void>((res, rej) => {
      calls.push({ fd, settle: (e) => (e ? rej(e) : res()) });
      for (const w of waiting.splice(0)) w(calls.length);
    });
  /** Resolves once the n-th sync has been asked for. */
  const called = (n: number) => new Promise<void>((res) => (calls.length >= n ? res() : waiting.push((c) => c >= n && res())));
  return { calls, syncWal, called };
}
const settledYet = async (p: Promise<unknown>) => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return done;
};

test('sqlite: an append resolves only after the -wal file is synced by a sync that started after its commit', { timeout: 30_000 }, async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const h = heldSync();
  const s = new SqliteStore(path, { syncWal: h.syncWal });
  const migrated = s.migrate();
  await h.called(1).then(() => h.calls[0].settle()); // the migrations' commits
  await migrated;
  const a = s.append([ev('a')]);
  await h.called(2);
  assert.equal(fstatSync(h.calls[1].fd).ino, statSync(path + '-wal').ino, 'the synced descriptor is the -wal file');
  assert.equal(await settledYet(a), false, 'committed but not yet synced: not acknowledged');
  // arriving while that sync is in flight: committed once it ends, and synced by the next one
  const b = s.append([ev('b')]);
  assert.equal(await settledYet(b), false);
  assert.equal(h.calls.length, 2, 'one sync at a time');
  h.calls[1].settle();
  assert.deepEqual(await a, { stored: [true] });
  await h.called(3);
  assert.equal(await settledYet(b), false, 'the sync that was in flight when b arrived does not cover b');
  h.calls[2].settle();
  assert.deepEqual(await b, { stored: [true] });
  const closing = s.close();
  await h.called(4).then(() => h.calls[3].settle());
  await closing;
});

test(
  'sqlite: a failed sync of the -wal file fails the writes waiting on it and every later write until the store is reopened',
  { timeout: 30_000 },
  async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
    const h = heldSync();
    const s = new SqliteStore(path, { syncWal: h.syncWal });
    const migrated = s.migrate();
    await h.called(1).then(() => h.calls[0].settle());
    await migrated;
    const a = s.append([ev('a')]);
    await h.called(2);
    const b = s.append([ev('b')]);
    assert.equal(await settledYet(b), false);
    h.calls[1].settle(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    // After a failed fsync Linux may drop the dirty pages and report the next fsync clean, so nothing
    // committed since the last good sync can be trusted to be on disk: refuse, and let a restart recover.
    await assert.rejects(a, (e: Error) => e instanceof StoreUnavailableError && /sync|EIO/.test(e.message));
    await assert.rejects(b, StoreUnavailableError);
    await assert.rejects(s.append([ev('c')]), StoreUnavailableError);
    await assert.rejects(s.ping(), StoreUnavailableError);
    await assert.rejects(s.claim({ workerId: 'w', maxUsers: 10, maxEventsPerUser: 10, leaseMs: 60_000 }), StoreUnavailableError);
    await assert.rejects(s.complete('w', []), StoreUnavailableError);
    await assert.rejects(s.requeue(['u1']), StoreUnavailableError);
    await assert.rejects(s.release('w'), StoreUnavailableError);
    assert.equal(h.calls.length, 2, 'no further sync after the failure');
    await s.close();
    const again = new SqliteStore(path);
    await again.migrate();
    // a was committed before its sync failed, b waited for that sync and was never committed; neither was acknowledged
    assert.equal((await again.stats()).pendingEvents, 1, 'reopened: the file holds what was committed');
    await again.close();
  },
);

test('sqlite: the real sync follows the -wal file through checkpoints and WAL restarts (same inode every time)', { timeout: 30_000 }, async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const inodes: boolean[] = [];
  const s = new SqliteStore(path, {
    syncWal: (fd) => {
      inodes.push(fstatSync(fd).ino === statSync(path + '-wal').ino);
      return syncWalFile(fd);
    },
  });
  await s.migrate();
  const body = 'x'.repeat(30_000);
  // ~120 MB through a WAL checkpointed at ~32 MB: several checkpoints, after each the WAL restarts from its start
  for (let round = 0; round < 40; round++) await Promise.all(Array.from({ length: 100 }, (_, i) => s.append([ev(round * 100 + i, { body })])));
  assert.ok(statSync(path + '-wal').size < 48 * 1024 * 1024, 'the WAL was checkpointed and reused');
  assert.ok(inodes.length >= 40, `syncs: ${inodes.length}`);
  assert.deepEqual(new Set(inodes), new Set([true]));
  await s.close();
});

test('sqlite: an in-memory store has no WAL to sync and still acknowledges appends', async () => {
  const s = new SqliteStore(':memory:', { syncWal: () => Promise.reject(new Error('must not be called')) });
  await s.migrate();
  assert.deepEqual(await s.append([ev('m')]), { stored: [true] });
  await s.close();
});

/** A store whose WAL sync returns at once, holding `n` users (u0, u1, …) due with one event each. */
async function storeWithDueUsers(n: number) {
  const s = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite'), { syncWal: async () => {} });
  await s.migrate();
  await s.append(Array.from({ length: n }, (_, i) => ev(i)));
  return s;
}

test('sqlite: a claim of many users lets a webhook append commit between its slices instead of holding the event loop for the whole batch', async () => {
  const s = await storeWithDueUsers(1000);
  const order: string[] = [];
  const claimed = s.claim({ workerId: 'w', maxUsers: 1000, maxEventsPerUser: 10, leaseMs: 60_000 }).then((c) => {
    order.push('claim');
    return c;
  });
  const appended = s.append([ev('late')]).then(() => order.push('append'));
  const [users] = await Promise.all([claimed, appended]);
  assert.deepEqual(order, ['append', 'claim'], 'the append was committed and acknowledged while the claim was still reading');
  assert.equal(users.length, 1000, 'the claim still took every due user');
  assert.ok(
    users.every((u, i) => u.userKey === `u${i}` && u.events.length === 1 && u.events[0].dedupeKey === `k${i}`),
    'each with its own event, in due order',
  );
  const next = await s.claim({ workerId: 'w2', maxUsers: 1000, maxEventsPerUser: 10, leaseMs: 60_000 });
  assert.deepEqual(
    next.map((u) => u.userKey),
    ['ulate'],
    'the users leased by the first claim stay leased',
  );
  await s.close();
});

test('sqlite: completing a batch of many users lets a webhook append commit between its slices', async () => {
  const s = await storeWithDueUsers(1000);
  const users = await s.claim({ workerId: 'w', maxUsers: 1000, maxEventsPerUser: 10, leaseMs: 60_000 });
  const order: string[] = [];
  const completed = s
    .complete(
      'w',
      users.map((u) => ({ userKey: u.userKey, doneSeq: u.events.at(-1)!.seq, state: { done: u.userKey }, written: {} })),
    )
    .then((keys) => {
      order.push('complete');
      return keys;
    });
  const appended = s.append([ev('late')]).then(() => order.push('append'));
  const [saved] = await Promise.all([completed, appended]);
  assert.deepEqual(order, ['append', 'complete'], 'the append was acknowledged while the completion was still saving');
  assert.deepEqual(
    saved,
    users.map((u) => u.userKey),
    'every user saved, in order',
  );
  assert.deepEqual(
    (await s.claim({ workerId: 'w2', maxUsers: 1000, maxEventsPerUser: 10, leaseMs: 60_000 })).map((u) => u.userKey),
    ['ulate'],
    'the completed users are done; only the new one is due',
  );
  await s.close();
});
