// Initial load from Didomi's batch export (reference/didomi.md "Batch export": date partitions,
// gzipped NDJSON, several files, read only once `_SUCCESS` exists), over a real SQLite file and
// the CLI, then synced by the service against the org emulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { SqliteStore } from '../src/store/sqlite.ts';
import { backfill } from '../src/backfill/backfill.ts';
import { findPartitions, ExportError } from '../src/backfill/export-files.ts';
import { NODE_FLAGS } from '../src/bin/node-flags.ts';
import { startStack } from '../../test/support/stack.ts';
import { userUpdated, eventCreated } from '../../test/support/didomi-events.ts';
import { PURPOSE } from '../../test/support/org-fixture.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../src/bin/didomi-sync.ts');
const exportUser = (email: string, at: string, marketing: boolean) =>
  userUpdated(email, new Date(at), { purposes: { [PURPOSE]: marketing } }).parameters.new_entity;

/** An export tree like Didomi's bucket: export-id=X/date=D/users/part-N.json.gz (+ _SUCCESS when complete). */
function writeExport(root: string, date: string, files: string[][], complete = true, exportId = 'exp-1') {
  const dir = join(root, `export-id=${exportId}`, `date=${date}`, 'users');
  mkdirSync(dir, { recursive: true });
  files.forEach((lines, i) => writeFileSync(join(dir, `part-${String(i).padStart(4, '0')}.json.gz`), gzipSync(lines.join('\n') + '\n')));
  if (complete) writeFileSync(join(dir, '_SUCCESS'), '');
  return dir;
}

const dirs = (root: string, date?: string) => findPartitions(root, date).map((p) => p.dir);

test('the newest complete partition is read; one still being written is not', () => {
  const root = mkdtempSync(join(tmpdir(), 'didomi-export-'));
  const older = writeExport(root, '2026-11-21', [['{}']]);
  const newer = writeExport(root, '2026-11-22', [['{}'], ['{}']]);
  writeExport(root, '2026-11-23', [['{}']], false);
  assert.deepEqual(dirs(root), [newer]);
  assert.equal(findPartitions(root)[0].files.length, 2);
  assert.deepEqual(dirs(root, '2026-11-21'), [older]);
  assert.equal(findPartitions(newer)[0].date, '2026-11-22', 'a users/ folder can be given directly');
  assert.throws(
    () => findPartitions(root, '2026-11-23'),
    (e: Error) => e instanceof ExportError && /no _SUCCESS marker/.test(e.message),
  );
  assert.throws(() => findPartitions(root, '2026-01-01'), /no partition date=2026-01-01/);
  assert.throws(() => findPartitions(join(root, 'nope')), /is not a folder/);
});

test('the documented bucket layout (<bucket>/data/export-id=…/date=…/users/): the bucket root, data/, an export-id= folder, a date= partition or a users/ folder', async () => {
  // reference/didomi.md "Batch export": Hive-style partitions /data/export-id={id}/date={YYYY-MM-DD}/users/.
  const bucket = mkdtempSync(join(tmpdir(), 'didomi-bucket-'));
  const data = join(bucket, 'data');
  writeExport(data, '2026-11-21', [[JSON.stringify(exportUser('old@example.com', '2026-11-20T10:00:00Z', true))]]);
  const users = writeExport(data, '2026-11-22', [[JSON.stringify(exportUser('a@example.com', '2026-11-21T10:00:00Z', true))]]);
  writeFileSync(join(bucket, 'README.txt'), 'not a partition'); // other things in the bucket are ignored
  for (const given of [bucket, data, join(data, 'export-id=exp-1'), join(data, 'export-id=exp-1', 'date=2026-11-22'), users]) {
    const [p, ...more] = findPartitions(given);
    assert.equal(p?.dir, users, `from ${given}`);
    assert.deepEqual([p.date, p.exportId, more.length], ['2026-11-22', 'exp-1', 0], `from ${given}`);
    const report = await backfill(null, { root: given });
    assert.deepEqual([report.lines, report.queued, report.rejected], [1, 1, 0], `backfill from ${given}`);
  }
  assert.deepEqual(dirs(bucket, '2026-11-21'), [join(data, 'export-id=exp-1', 'date=2026-11-21', 'users')], '--date from the bucket root');
  assert.throws(() => findPartitions(join(bucket, 'README.txt')), /is not a folder/);
  const empty = mkdtempSync(join(tmpdir(), 'didomi-bucket-'));
  mkdirSync(join(empty, 'data'));
  assert.throws(() => findPartitions(empty), /no Didomi export partition .*data\/export-id=…\/date=YYYY-MM-DD\/users/);
});

test('several exports in one bucket: the newest complete partition of each export is read', async () => {
  const data = join(mkdtempSync(join(tmpdir(), 'didomi-bucket-')), 'data');
  writeExport(data, '2026-11-21', [[JSON.stringify(exportUser('a@example.com', '2026-11-20T10:00:00Z', true))]], true, 'exp-a');
  const a = writeExport(data, '2026-11-22', [[JSON.stringify(exportUser('a@example.com', '2026-11-21T10:00:00Z', false))]], true, 'exp-a');
  const b = writeExport(data, '2026-11-20', [[JSON.stringify(exportUser('b@example.com', '2026-11-19T10:00:00Z', true))]], true, 'exp-b');
  writeExport(data, '2026-11-23', [['{}']], false, 'exp-b'); // still being written: exp-b's older partition is read
  assert.deepEqual(dirs(data), [a, b]);
  const report = await backfill(null, { root: data });
  assert.deepEqual([report.partitions.length, report.lines, report.queued], [2, 2, 2]);
  assert.deepEqual(dirs(data, '2026-11-20'), [b], '--date takes that date in the exports that have it');
  writeExport(data, '2026-11-23', [['{}']], false, 'exp-c'); // an export with no complete partition yet
  assert.throws(
    () => findPartitions(data),
    (e: Error) => e instanceof ExportError && /export-id=exp-c.*no _SUCCESS marker/.test(e.message),
  );
});

test('users are queued durably and idempotently; bad lines are rejected with file, line and reason', async () => {
  const root = mkdtempSync(join(tmpdir(), 'didomi-export-'));
  writeExport(root, '2026-11-22', [
    [
      JSON.stringify(exportUser('a@example.com', '2026-11-20T10:00:00Z', true)),
      'not json',
      JSON.stringify(exportUser('b@example.com', '2026-11-20T10:00:00Z', false)),
    ],
    [JSON.stringify({ organization_user_id: 'no-id@example.com' }), JSON.stringify(exportUser('a@example.com', '2026-11-20T10:00:00Z', true))],
  ]);
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'didomi-bf-')), 'db.sqlite'));
  await store.migrate();
  const first = await backfill(store, { root, chunk: 2 });
  assert.equal(first.lines, 5);
  assert.equal(first.queued, 2);
  assert.equal(first.duplicates, 1, 'the same user state twice is stored once');
  assert.equal(first.rejected, 2);
  assert.equal(first.rejections[0].line, 2);
  assert.match(first.rejections[0].file, /part-0000\.json\.gz$/);
  assert.equal(first.rejections[0].reason, 'not JSON');
  assert.match(first.rejections[1].reason, /^id: /);
  const again = await backfill(store, { root });
  assert.deepEqual([again.queued, again.duplicates], [0, 3], 'running it twice queues nothing new');
  const dry = await backfill(null, { root });
  assert.equal(dry.queued, 3);
  await store.close();
});

test('CLI: a backfill reaches Salesforce through the service and never overwrites a newer webhook', async () => {
  const stack = await startStack({ mode: 'child' });
  try {
    stack.emu.seed({
      Lead: ['new@example.com', 'old@example.com', 'plain@example.com'].map((Email, i) => ({ LastName: `B${i}`, Company: 'Acme', Email })),
    });
    // A webhook from after the export: marketing withdrawn (HasOptedOutOfEmail is the inverted purpose).
    assert.equal((await stack.post(eventCreated('new@example.com', new Date('2026-11-22T12:00:00Z'), { purposes: { [PURPOSE]: false } }))).status, 202);
    await stack.waitForDrain();
    const root = mkdtempSync(join(tmpdir(), 'didomi-export-')); // the bucket: the CLI is pointed at its root
    writeExport(join(root, 'data'), '2026-11-22', [
      [
        JSON.stringify(exportUser('new@example.com', '2026-11-21T08:00:00Z', true)), // older than the webhook
        JSON.stringify(exportUser('old@example.com', '2026-11-21T08:00:00Z', false)),
        JSON.stringify(exportUser('plain@example.com', '2026-11-21T08:00:00Z', true)),
      ],
    ]);
    const cli = (args: string[]) =>
      run(process.execPath, [...NODE_FLAGS, BIN, 'backfill', ...args], { env: { ...process.env, ...stack.env } }).then(
        (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
        (e) => ({ code: e.code as number, out: e.stdout as string, err: e.stderr as string }),
      );

    const busy = await cli([root]);
    assert.equal(busy.code, 2, 'the SQLite file belongs to the running service');
    assert.match(busy.err, /in use by a running service/);

    await stack.kill('SIGTERM');
    const done = await cli([root]);
    assert.equal(done.code, 0, done.err);
    assert.match(done.out, /date=2026-11-22\/users \(2026-11-22\): 1 file\(s\), 3 line\(s\): 3 queued, 0 already queued, 0 rejected/);
    await stack.restart();
    await stack.waitForDrain();
    const leads = new Map((await stack.records('Lead')).map((l) => [l.Email, l]));
    assert.equal(leads.get('new@example.com').HasOptedOutOfEmail, true, 'the newer webhook (withdrawn) wins over the export');
    assert.equal(leads.get('old@example.com').HasOptedOutOfEmail, true, 'exported refusal written');
    assert.equal(leads.get('plain@example.com').HasOptedOutOfEmail, false, 'exported consent written');
    assert.equal(leads.get('plain@example.com').Didomi_User_Id__c, 'plain@example.com');
  } finally {
    await stack.close();
  }
});
