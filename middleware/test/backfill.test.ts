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
import { findPartition, ExportError } from '../src/backfill/export-files.ts';
import { NODE_FLAGS } from '../src/bin/node-flags.ts';
import { startStack } from '../../test/support/stack.ts';
import { userUpdated, eventCreated } from '../../test/support/didomi-events.ts';
import { PURPOSE } from '../../test/support/org-fixture.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../src/bin/didomi-sync.ts');
const exportUser = (email: string, at: string, marketing: boolean) =>
  userUpdated(email, new Date(at), { purposes: { [PURPOSE]: marketing } }).parameters.new_entity;

/** An export tree like Didomi's bucket: export-id=X/date=D/users/part-N.json.gz (+ _SUCCESS when complete). */
function writeExport(root: string, date: string, files: string[][], complete = true) {
  const dir = join(root, 'export-id=exp-1', `date=${date}`, 'users');
  mkdirSync(dir, { recursive: true });
  files.forEach((lines, i) => writeFileSync(join(dir, `part-${String(i).padStart(4, '0')}.json.gz`), gzipSync(lines.join('\n') + '\n')));
  if (complete) writeFileSync(join(dir, '_SUCCESS'), '');
  return dir;
}

test('the newest complete partition is read; one still being written is not', () => {
  const root = mkdtempSync(join(tmpdir(), 'didomi-export-'));
  const older = writeExport(root, '2026-11-21', [['{}']]);
  const newer = writeExport(root, '2026-11-22', [['{}'], ['{}']]);
  writeExport(root, '2026-11-23', [['{}']], false);
  assert.equal(findPartition(root).dir, newer);
  assert.equal(findPartition(root).files.length, 2);
  assert.equal(findPartition(root, '2026-11-21').dir, older);
  assert.equal(findPartition(newer).date, '2026-11-22', 'a users/ folder can be given directly');
  assert.throws(
    () => findPartition(root, '2026-11-23'),
    (e: Error) => e instanceof ExportError && /no _SUCCESS marker/.test(e.message),
  );
  assert.throws(() => findPartition(root, '2026-01-01'), /no partition date=2026-01-01/);
  assert.throws(() => findPartition(join(root, 'nope')), /is not a folder/);
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
    const root = mkdtempSync(join(tmpdir(), 'didomi-export-'));
    writeExport(root, '2026-11-22', [
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
