// Issue 11 item 4: a 200 from Salesforce that does not account for every record sent (an empty
// compositeResponse, fewer results than records, an object where a list is due, a page that is not
// JSON) is a transient failure: every record ends written, retried or dead-lettered, never dropped.
// Injected with the emulator's test-only `mangle` fault (emulator/src/mangle.ts), which leaves the
// unaccounted records unwritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stacksClosedAfterFile } from './support/stacks.ts';
import { eventCreated, PURPOSE } from '../../test/support/didomi-events.ts';

const stack = stacksClosedAfterFile();
const at = (s: number) => new Date(Date.parse('2026-11-01T10:00:00Z') + s * 1000);

for (const mode of ['empty', 'short', 'object', 'non-json'] as const) {
  test(`a 200 write response that is ${mode} is retried until every withdrawal is written; no dead letter`, async () => {
    const s = await stack({ env: { BATCH_WAIT_MS: '200' } });
    const emails = ['a', 'b', 'c'].map((x) => `${x}-${mode}@example.com`);
    s.emu.seed({ Lead: emails.map((Email, i) => ({ LastName: `L${i}`, Company: 'Acme', Email, HasOptedOutOfEmail: false })) });
    await s.emu.setFaults({ mangle: mode, mangleCount: 1 });
    const token = await s.token();
    await Promise.all(emails.map((e) => s.post(eventCreated(e, at(1), { purposes: { [PURPOSE]: false } }), token)));
    await s.waitForDrain();
    assert.equal((await s.emu.setFaults({})).mangle, 'off', 'the fault hit one write response');
    const leads = await s.records('Lead');
    assert.deepEqual(
      emails.map((e) => leads.find((l) => l.Email === e).HasOptedOutOfEmail),
      [true, true, true],
      'every withdrawal reached its record',
    );
    assert.equal((await s.records('Didomi_Sync_Error__c')).length, 0, 'a damaged answer is not a permanent failure');
  });
}
