// Who pushes dead letters into the org (error-push.ts): one housekeeping task, at the pace of the
// shorter of HEARTBEAT_MS and CONFIG_REFRESH_MS, besides the push right after a batch or a
// configuration refresh adds letters. Over HTTP to the org emulator, on a real SQLite file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../../test/support/stack.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { buildDeadLetter } from '../src/sync/dead-letter.ts';
import type { DeadLetter } from '../src/store/types.ts';

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) await s.close();
});

const letter = (user: string): DeadLetter =>
  buildDeadLetter({
    ...{ identity: `push-test:${user}`, userKey: user, organizationUserId: user, targetObject: 'Lead', recordId: null },
    ...{ code: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', attempts: 1 },
    ...{ firstFailedAt: '2026-11-01T10:00:00.000Z', now: '2026-11-01T10:00:00.000Z', payload: {} },
  });

/** Writes of Didomi_Sync_Error__c records in the emulator's write log (each push of a letter is one). */
async function errorWrites(s: Stack): Promise<{ op: string; fields: Record<string, unknown> }[]> {
  const body = (await (await fetch(`${s.emu.url}/__emulator/writes?since=0`)).json()) as {
    writes: { sobject: string; op: string; fields: Record<string, unknown> }[];
  };
  return body.writes.filter((w) => w.sobject === 'Didomi_Sync_Error__c');
}

test('a dead letter left unsynced is pushed once at start, not once by each housekeeping task', async () => {
  // The letter of a previous run whose push failed, in the SQLite file the service then opens.
  const path = join(mkdtempSync(join(tmpdir(), 'didomi-push-')), 'didomi-sync.sqlite');
  const store = new SqliteStore(path);
  await store.migrate();
  await store.addDeadLetters([letter('left@example.com')]);
  await store.close();
  // Salesforce answering slowly: the configuration refresh and the heartbeat, started side by side, are both in flight while the letter goes.
  const s = await startStack({ env: { SQLITE_PATH: path, HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' }, faults: { latencyMs: 150 } });
  stacks.push(s);
  // startStack returns once the service has started, i.e. once every housekeeping task's first run has ended.
  assert.equal((await s.service!.store.stats()).deadLettersUnsynced, 0, 'the letter is marked synced');
  const writes = await errorWrites(s);
  assert.deepEqual(
    writes.map((w) => [w.op, w.fields.Organization_User_Id__c]),
    [['create', 'left@example.com']],
    'one upsert of the letter, no second one',
  );
});

for (const only of ['CONFIG_REFRESH_MS', 'HEARTBEAT_MS'] as const) {
  test(`a dead letter whose first push failed is still pushed when only one timer runs (${only})`, async () => {
    const s = await startStack({ env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000', [only]: '100' } });
    stacks.push(s);
    // As a batch leaves it when Salesforce refused its push: stored, not yet in the org.
    await s.service!.store.addDeadLetters([letter('later@example.com')]);
    await waitFor('the letter in the org', async () =>
      (await s.records('Didomi_Sync_Error__c')).some((e) => e.Organization_User_Id__c === 'later@example.com'),
    );
    await waitFor('the letter marked synced', async () => (await s.service!.store.stats()).deadLettersUnsynced === 0);
  });
}
