import { mkdtempSync, existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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
    bytes: async (s) => {
      const path = paths.get(s)!;
      return statSync(path).size + (existsSync(path + '-wal') ? statSync(path + '-wal').size : 0);
    },
  },
);

test('sqlite: WAL, synchronous=FULL, exclusive (no memory-mapped WAL index); an acknowledged append survives the process', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'store-')), 'db.sqlite');
  const s = new SqliteStore(path);
  await s.migrate();
  await s.append([{ dedupeKey: 'k', userKey: 'u', type: 'event.created', occurredAt: new Date().toISOString(), payload: {} }]);
  const db = (s as any).db as DatabaseSync;
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.equal((db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 2);
  assert.equal((db.prepare('PRAGMA locking_mode').get() as { locking_mode: string }).locking_mode, 'exclusive');
  assert.equal(existsSync(path + '-shm'), false, 'no -shm file to memory-map');
  // the process dies without closing the store: the row is on disk all the same
  const child = spawnSync(process.execPath, [
    '-e',
    `const {DatabaseSync}=require('node:sqlite');const d=new DatabaseSync(${JSON.stringify(path)});d.exec("PRAGMA locking_mode=EXCLUSIVE");process.stdout.write(String(d.prepare('SELECT count(*) AS n FROM inbox').get().n))`,
  ]);
  assert.match(String(child.stderr) + String(child.stdout), /locked|busy|1/i);
  (s as any).closed = true;
  db.close(); // no flush, no checkpoint: like a crash after the acknowledgement
  const again = new DatabaseSync(path);
  assert.equal((again.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n, 1);
  again.close();
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
