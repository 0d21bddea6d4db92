import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../src/store/sqlite.ts';
import { storeContract } from './store.contract.ts';

const paths = new WeakMap<object, string>();
storeContract(
  'sqlite',
  async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
    const s = new SqliteStore(path);
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
);

test('sqlite: WAL with synchronous=FULL, and a resolved append is visible to another connection', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const s = new SqliteStore(path);
  await s.migrate();
  await s.append([{ dedupeKey: 'k', userKey: 'u', type: 'event.created', occurredAt: new Date().toISOString(), payload: {} }]);
  const other = new DatabaseSync(path);
  assert.equal((other.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.equal((other.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n, 1);
  other.close();
  await s.close();
});

test('sqlite: group commit puts concurrent appends in one transaction', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const s = new SqliteStore(path);
  await s.migrate();
  const n = 500;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      s.append([{ dedupeKey: `k${i}`, userKey: `u${i % 50}`, type: 'event.created', occurredAt: new Date().toISOString(), payload: { i } }]),
    ),
  );
  assert.equal(results.filter((r) => r.stored[0]).length, n);
  assert.equal((await s.stats()).pendingEvents, n);
  await s.close();
});
