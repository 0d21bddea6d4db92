// "Retry / dismiss every dead letter with this code": the admin tab creates one
// Didomi_Sync_Bulk_Request__c; the middleware carries it out server-side over real HTTP to the
// emulator, in runs of at most 2,000 rows, and marks it Done (or Failed, with the reason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../test/support/wait-for.ts';
import { stacksClosedAfterFile } from './support/stacks.ts';

const stack = stacksClosedAfterFile();
const deadLetters = (n: number, code: string, object: string, status = 'Open') =>
  Array.from({ length: n }, (_, i) => ({
    Error_Code__c: code,
    Target_Object__c: object,
    Status__c: status,
    Organization_User_Id__c: `${code.toLowerCase()}-${object.toLowerCase()}-${i}@example.com`,
    Message__c: 'refused',
    Attempts__c: 1,
  }));
const count = (rows: any[], code: string, object: string, status: string) =>
  rows.filter((r) => r.Error_Code__c === code && r.Target_Object__c === object && r.Status__c === status).length;

test('dismiss all 2,300 Lead dead letters of one code: done over two runs; other objects, codes and statuses untouched', async () => {
  const s = await stack({ env: { HEARTBEAT_MS: '300', CONFIG_REFRESH_MS: '300' } });
  s.emu.seed({
    Didomi_Sync_Error__c: [
      ...deadLetters(2300, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Lead'),
      ...deadLetters(150, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Contact'),
      ...deadLetters(30, 'REQUIRED_FIELD_MISSING', 'Lead'),
      ...deadLetters(5, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Lead', 'Resolved'),
    ],
  });
  const [id] = s.emu.seed({
    Didomi_Sync_Bulk_Request__c: [
      { Action__c: 'Dismiss', Error_Code__c: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', From_Status__c: 'Open', Target_Object__c: 'Lead' },
    ],
  }).Didomi_Sync_Bulk_Request__c;
  const request = async () => (await s.records('Didomi_Sync_Bulk_Request__c')).find((r) => r.Id === id);
  // read in the same tick as the seed: the middleware cannot have picked the request up yet
  assert.equal(s.emu.org.get('Didomi_Sync_Bulk_Request__c', id)!.Status__c, 'Pending', 'a new request is Pending by default');
  await waitFor('the request done', async () => (await request()).Status__c === 'Done');
  const req = await request();
  assert.equal(req.Records_Affected__c, 2300);
  assert.ok(req.Processed_At__c, 'processed at is set');
  const rows = await s.records('Didomi_Sync_Error__c');
  assert.equal(count(rows, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Lead', 'Dismissed'), 2300);
  assert.equal(count(rows, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Lead', 'Resolved'), 5, 'only rows in the From status change');
  assert.equal(count(rows, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Contact', 'Open'), 150, 'another object is untouched');
  assert.equal(count(rows, 'REQUIRED_FIELD_MISSING', 'Lead', 'Open'), 30, 'another code is untouched');
  // each dead letter written once (collections of 200), the request twice (progress, then done)
  const { writes } = (await (await fetch(`${s.emu.url}/__emulator/writes`)).json()) as { writes: { sobject: string; op: string }[] };
  assert.equal(writes.filter((w) => w.sobject === 'Didomi_Sync_Bulk_Request__c' && w.op === 'update').length, 2, 'progress after 2,000, then done');
  assert.equal(writes.filter((w) => w.sobject === 'Didomi_Sync_Error__c' && w.op === 'update').length, 2300);
});

test('retry all of a code across every object; a request naming no known object fails with its reason; quotes in a code match nothing', async () => {
  const s = await stack({ env: { HEARTBEAT_MS: '300', CONFIG_REFRESH_MS: '300' } });
  s.emu.seed({
    Didomi_Sync_Error__c: [...deadLetters(40, 'UNABLE_TO_LOCK_ROW', 'Lead', 'Dismissed'), ...deadLetters(10, 'UNABLE_TO_LOCK_ROW', 'Contact', 'Dismissed')],
  });
  const ids = s.emu.seed({
    Didomi_Sync_Bulk_Request__c: [
      { Action__c: 'Retry', Error_Code__c: 'UNABLE_TO_LOCK_ROW', From_Status__c: 'Dismissed' },
      { Action__c: 'Dismiss', Error_Code__c: 'UNABLE_TO_LOCK_ROW', From_Status__c: 'Open', Target_Object__c: 'Opportunity' },
      { Action__c: 'Dismiss', Error_Code__c: "X' OR Status__c != 'Y", From_Status__c: 'Retry Requested' },
    ],
  }).Didomi_Sync_Bulk_Request__c;
  const requests = async () => {
    const all = await s.records('Didomi_Sync_Bulk_Request__c');
    return ids.map((id) => all.find((r) => r.Id === id));
  };
  await waitFor('every request processed', async () => (await requests()).every((r) => r.Status__c !== 'Pending'));
  const [retry, badObject, injection] = await requests();
  assert.deepEqual([retry.Status__c, retry.Records_Affected__c], ['Done', 50]);
  assert.equal(badObject.Status__c, 'Failed');
  assert.match(badObject.Message__c, /Target_Object__c/);
  assert.deepEqual([injection.Status__c, injection.Records_Affected__c], ['Done', 0]);
  const rows = await s.records('Didomi_Sync_Error__c');
  // Retry Requested rows are then replayed by the usual path (and resolved when nothing is left to write).
  assert.equal(rows.filter((r) => r.Status__c === 'Dismissed').length, 0, 'every dismissed row of the code was sent back for retry');
});
