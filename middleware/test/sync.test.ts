// The behaviour contract (DESIGN.md) end to end: webhooks in, over HTTP to the org emulator, fields out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASE_URL } from '../../test/support/stack.ts';
import { byEmail, stacksClosedAfterFile } from './support/stacks.ts';
import { HeldClaimsStore } from './support/held-claims.ts';
import { metricSum, waitFor } from '../../test/support/wait-for.ts';
import { eventCreated, userUpdated, userDeleted, PURPOSE, PREFERENCE } from '../../test/support/didomi-events.ts';
import { PHONE_PURPOSE, VALUE_WEEKLY, VALUE_OFFERS, CUSTOMER_PERMISSION_SETS } from '../../test/support/org-fixture.ts';

const stack = stacksClosedAfterFile();
const t0 = Date.parse('2026-11-01T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);

test('purpose, preference and preference value reach Lead and Contact; invert, labels, multi-select', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Lee', Company: 'Acme', Email: 'ann@example.com' }], Contact: [{ LastName: 'Lee', Email: 'ann@example.com' }] });
  assert.equal(
    (
      await s.post(
        eventCreated('ann@example.com', at(1), {
          purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: false },
          preferences: { [PREFERENCE]: [VALUE_WEEKLY, VALUE_OFFERS] },
        }),
      )
    ).status,
    202,
  );
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'ann@example.com');
  assert.equal(lead.HasOptedOutOfEmail, false, 'purpose given -> opt-out false (invert)');
  assert.equal(lead.DoNotCall, true, 'phone purpose refused -> DoNotCall true (invert)');
  assert.equal(lead.Newsletter_Topics__c, 'Offers;Weekly digest');
  assert.equal(lead.Weekly_Digest__c, true);
  assert.equal(lead.Didomi_User_Id__c, 'ann@example.com');
  assert.equal(lead.Didomi_Consent_Updated_At__c, at(1).toISOString().replace('Z', '+0000'));
  const [contact] = await byEmail(s, 'Contact', 'ann@example.com');
  assert.equal(contact.Newsletter_Topics__c, 'Offers;Weekly digest');
  assert.equal(contact.HasOptedOutOfEmail, false);
  // withdrawn, then a stale duplicate of the first event arrives late: the state stays withdrawn
  await s.post(eventCreated('ann@example.com', at(5), { purposes: { [PURPOSE]: false }, preferences: { [PREFERENCE]: [] } }));
  await s.post(eventCreated('ann@example.com', at(2), { purposes: { [PURPOSE]: true } }));
  await s.waitForDrain();
  const [lead2] = await byEmail(s, 'Lead', 'ann@example.com');
  assert.equal(lead2.HasOptedOutOfEmail, true);
  assert.equal(lead2.Newsletter_Topics__c, null);
  assert.equal(lead2.Weekly_Digest__c, false);
});

test('the regulation filter: a CPRA event never overwrites a GDPR field', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Cal', Company: 'Acme', Email: 'cal@example.com' }] });
  await s.post(eventCreated('cal@example.com', at(1), { purposes: { [PURPOSE]: true } }));
  await s.post(eventCreated('cal@example.com', at(2), { purposes: { [PURPOSE]: false } }, { regulation: 'cpra' }));
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'cal@example.com');
  assert.equal(lead.HasOptedOutOfEmail, false, 'GDPR field untouched by CPRA');
  assert.equal(lead.Marketing_Consent_CPRA__c, false, 'CPRA field written');
});

test('matching: external id first, email case-insensitively with quotes and backslashes, converted leads skipped, every match updated', async () => {
  const s = await stack();
  const tricky = "O'Brien\\Test@Example.com";
  s.emu.seed({
    Lead: [
      { LastName: 'A', Company: 'Acme', Email: "o'brien\\test@example.com" },
      { LastName: 'B', Company: 'Acme', Email: "O'BRIEN\\TEST@EXAMPLE.COM" },
      { LastName: 'Conv', Company: 'Acme', Email: "o'brien\\test@example.com", IsConverted: true },
      { LastName: 'Other', Company: 'Acme', Email: 'obrien-test@example.com' },
      { LastName: 'Ext', Company: 'Acme', Email: 'changed@example.com', Didomi_User_Id__c: 'ext-42' },
    ],
  });
  await s.post(eventCreated(tricky, at(1), { purposes: { [PURPOSE]: false } }));
  await s.post(eventCreated('ext-42', at(1), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const leads = await s.records('Lead');
  const hit = leads.filter((l) => l.LastName === 'A' || l.LastName === 'B');
  assert.deepEqual(
    hit.map((l) => l.HasOptedOutOfEmail),
    [true, true],
    'both email matches updated',
  );
  // e-mail-shaped ids compare case-insensitively: the lower case is the id (didomi/user-key.ts)
  assert.equal(hit.filter((l) => l.Didomi_User_Id__c === tricky.toLowerCase()).length, 1, 'the unique external id goes to one of them');
  assert.equal(leads.find((l) => l.LastName === 'Conv').HasOptedOutOfEmail, false, 'converted lead untouched');
  assert.equal(leads.find((l) => l.LastName === 'Other').HasOptedOutOfEmail, false, 'no wildcard match');
  assert.equal(leads.find((l) => l.LastName === 'Ext').HasOptedOutOfEmail, true, 'matched by Didomi_User_Id__c');
  assert.equal(leads.length, 5, 'upsert mode created nothing: every user matched');
});

test('upsert mode creates the record once, even when the write is retried after a lost response', async () => {
  // a write with no answer is retried only once it must have finished: 2 x SF_REQUEST_TIMEOUT_MS (engine.ts)
  const s = await stack({ env: { SF_REQUEST_TIMEOUT_MS: '2000' } });
  // the emulator commits the create, then drops the connection: the middleware cannot know the record exists
  await s.emu.setFaults({ dropWriteResponses: 1 });
  await s.post(eventCreated('new@example.com', at(1), { purposes: { [PURPOSE]: true } }));
  await s.waitForDrain(60_000);
  assert.equal(s.emu.stats().droppedResponses, 1, 'the first write was committed and its response lost');
  assert.ok(metricSum(await s.metrics(), 'didomi_sync_retries_scheduled_total') >= 1, 'the sync was retried');
  const [created] = await byEmail(s, 'Lead', 'new@example.com');
  const writes = s.emu.org.writeLog.filter((w) => w.sobject === 'Lead' && w.id === created.Id);
  assert.deepEqual(
    writes.map((w) => w.op),
    ['create', 'update'],
    'created once, then the retry updated that same record',
  );
  await s.post(userUpdated('new@example.com', at(2), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const leads = await byEmail(s, 'Lead', 'new@example.com');
  assert.equal(leads.length, 1);
  assert.equal(leads[0].Company, 'Unknown (Didomi)', 'creation defaults fill required fields');
  assert.equal(leads[0].HasOptedOutOfEmail, true);
  assert.equal((await s.records('Contact')).length, 0, 'the Contact target is not in upsert mode');
});

test('only changed fields are written, and nothing at all when nothing changed', async () => {
  // housekeeping only at start, so every API call counted below is the sync's own
  const s = await stack({ env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' } });
  s.emu.seed({ Lead: [{ LastName: 'Chg', Company: 'Acme', Email: 'chg@example.com' }] });
  const ev = eventCreated('chg@example.com', at(1), { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: true } });
  await s.post(ev);
  await s.waitForDrain();
  const since = Date.now();
  const callsBefore = s.emu.stats().apiCalls.total;
  await s.post(eventCreated('chg@example.com', at(0), { purposes: { [PURPOSE]: false } })); // older: no change
  await s.waitForDrain();
  let writes = ((await (await fetch(`${s.emu.url}/__emulator/writes?since=${since}`)).json()) as any).writes.filter((w: any) => w.sobject === 'Lead');
  assert.equal(writes.length, 0, 'an older event changes nothing, so nothing is written');
  await s.post(eventCreated('chg@example.com', at(3), { purposes: { [PHONE_PURPOSE]: false } }));
  await s.waitForDrain();
  writes = ((await (await fetch(`${s.emu.url}/__emulator/writes?since=${since}`)).json()) as any).writes.filter((w: any) => w.sobject === 'Lead');
  assert.equal(writes.length, 1);
  assert.deepEqual(Object.keys(writes[0].fields).sort(), ['Didomi_Consent_Updated_At__c', 'Didomi_Consents__c', 'DoNotCall']);
  assert.equal(s.emu.stats().apiCalls.total - callsBefore, 3, 'a match query per event, one write');
});

test('many users per request: 600 users land in a handful of API calls (collections inside composite)', async () => {
  // Salesforce is down while the webhooks arrive: with no configuration the engine claims nothing, so all 600 users
  // are pending before the first claim however fast the machine is; housekeeping runs only when Salesforce is back.
  const s = await stack({ faults: { outage: '503' }, env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' } });
  s.emu.seed({ Lead: Array.from({ length: 600 }, (_, i) => ({ LastName: `L${i}`, Company: 'Acme', Email: `bulk${i}@example.com` })) });
  const token = await s.token();
  const posted = await Promise.all(
    Array.from({ length: 600 }, (_, i) => s.post(eventCreated(`bulk${i}@example.com`, at(1), { purposes: { [PURPOSE]: false } }), token)),
  );
  assert.ok(posted.every((r) => r.status === 202));
  const before = s.emu.stats().apiCalls;
  await s.emu.setFaults({ outage: 'off' });
  await s.waitForDrain();
  const after = s.emu.stats().apiCalls;
  const leads = await s.records('Lead');
  assert.equal(leads.filter((l) => l.HasOptedOutOfEmail === true).length, 600);
  const m = await s.metrics();
  assert.equal(metricSum(m, 'didomi_sync_batch_users_count'), 1, 'one batch');
  assert.equal(metricSum(m, 'didomi_sync_batch_users_sum'), 600, 'of 600 users');
  // one composite reads the configuration, two carry the match queries (Lead, Contact; chunked to stay under the
  // query length limit, 5 a composite), one the 3 collections of 200 updates
  assert.ok(after.total - before.total <= 4, `API calls for 600 users: ${after.total - before.total}`);
  assert.equal((after.byResource.composite ?? 0) - (before.byResource.composite ?? 0), after.total - before.total, 'all of them composite');
});

test("60 people each with a Lead and a Contact: collections by sObject type, within Salesforce's 10-chunk rule", async () => {
  // claims held while the webhooks arrive: the 120 records go out in one batch whatever the machine's speed
  let store!: HeldClaimsStore;
  const s = await stack({ makeStore: (env) => (store = new HeldClaimsStore(env.SQLITE_PATH)) });
  store.held = true;
  const emails = Array.from({ length: 60 }, (_, i) => `pair${i}@example.com`);
  s.emu.seed({
    Lead: emails.map((Email, i) => ({ LastName: `L${i}`, Company: 'Acme', Email })),
    Contact: emails.map((Email, i) => ({ LastName: `C${i}`, Email })),
  });
  const token = await s.token();
  await Promise.all(emails.map((e) => s.post(eventCreated(e, at(1), { purposes: { [PURPOSE]: false } }), token)));
  store.held = false;
  await s.waitForDrain();
  const m = await s.metrics();
  assert.deepEqual([metricSum(m, 'didomi_sync_batch_users_count'), metricSum(m, 'didomi_sync_batch_users_sum')], [1, 60], 'one batch of 60 people');
  const optedOut = async (obj: string) => (await s.records(obj)).filter((r) => r.HasOptedOutOfEmail === true).length;
  assert.equal(await optedOut('Lead'), 60, 'every Lead written');
  assert.equal(await optedOut('Contact'), 60, 'every Contact written');
  assert.deepEqual(
    (await s.records('Didomi_Sync_Error__c')).map((e) => e.Error_Code__c),
    [],
    'no dead letter',
  );
});

test('transient faults: session revoked, 503 outage, refused connections, row locks, limit exhausted; nothing lost', async () => {
  // A user meets each fault as often as the machine's speed lets the loop claim it while the fault lasts, and
  // its retry delay doubles from the 6th failure on (retry.ts): at a thousandth of the real schedule, ten
  // failures in a row still retry within 4 s, so a busy machine cannot push the drain past the waits below.
  const s = await stack({ env: { RETRY_BACKOFF_SCALE: '0.001' } });
  s.emu.seed({ Lead: Array.from({ length: 20 }, (_, i) => ({ LastName: `F${i}`, Company: 'Acme', Email: `f${i}@example.com` })) });
  const send = (i: number, sec: number, enabled: boolean) => s.post(eventCreated(`f${i}@example.com`, at(sec), { purposes: { [PURPOSE]: enabled } }));
  // each fault window lasts until the middleware has met the fault (a counter moved), never a fixed time
  const calls = async (status: string) => metricSum(await s.metrics(), 'didomi_sync_salesforce_api_calls_total', { status });
  const tokensBefore = s.emu.stats().tokens;
  s.emu.revokeSessions();
  for (let i = 0; i < 5; i++) assert.equal((await send(i, 1, false)).status, 202);
  await s.waitForDrain();
  assert.ok(s.emu.stats().tokens > tokensBefore, 'a new session after the revocation');
  await s.emu.setFaults({ outage: '503' });
  const served503 = await calls('503');
  for (let i = 5; i < 10; i++) assert.equal((await send(i, 1, false)).status, 202, 'accepted during the outage');
  await waitFor('a 503 met by the sync', async () => (await calls('503')) > served503);
  await s.emu.setFaults({ outage: 'refuse' });
  const refused = await calls('0');
  await waitFor('a refused connection met by the sync', async () => (await calls('0')) > refused);
  await s.emu.setFaults({ outage: 'off', lockRowShare: 0.5 });
  for (let i = 10; i < 15; i++) await send(i, 1, false);
  await s.waitForDrain(60_000);
  await s.emu.setFaults({ lockRowShare: 0, limitExhausted: true });
  const limited = await calls('403');
  for (let i = 15; i < 20; i++) await send(i, 1, false);
  await waitFor('REQUEST_LIMIT_EXCEEDED met by the sync', async () => (await calls('403')) > limited);
  await s.emu.setFaults({ limitExhausted: false });
  await waitFor('all 20 leads opted out', async () => (await s.records('Lead')).filter((l) => l.HasOptedOutOfEmail).length === 20, 90_000);
  const m = await s.metrics();
  assert.match(m, /didomi_sync_retries_scheduled_total\{reason="[A-Z_]+"\} \d+/);
});

test('a permanent per-record failure is dead-lettered in the org while the rest of the batch succeeds; a retry requested from the org replays it', async () => {
  // Salesforce is down while both webhooks arrive, so both users are in the first batch whatever the machine's speed
  const s = await stack({ faults: { outage: '503' } });
  s.emu.seed({
    Lead: [
      { LastName: 'Ok', Company: 'Acme', Email: 'ok@example.com' },
      { LastName: 'Bad', Company: 'Acme', Email: 'bad@example.com' },
    ],
  });
  await s.emu.setFaults({ validationRules: [{ sobject: 'Lead', field: 'Email', value: 'bad@example.com', message: 'Email opt-out changes need a reason' }] });
  const token = await s.token();
  await Promise.all(['ok@example.com', 'bad@example.com'].map((e) => s.post(eventCreated(e, at(1), { purposes: { [PURPOSE]: false } }), token)));
  await s.emu.setFaults({ outage: 'off' });
  await s.waitForDrain();
  const batches = await s.metrics();
  assert.deepEqual([metricSum(batches, 'didomi_sync_batch_users_count'), metricSum(batches, 'didomi_sync_batch_users_sum')], [1, 2], 'one batch of both users');
  let errors: any[] = [];
  await waitFor('a Didomi_Sync_Error__c record', async () => (errors = await s.records('Didomi_Sync_Error__c')).length === 1);
  assert.equal(errors[0].Error_Code__c, 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
  assert.equal(errors[0].Organization_User_Id__c, 'bad@example.com');
  assert.equal(errors[0].Status__c, 'Open');
  assert.equal(errors[0].Message__c, 'Email opt-out changes need a reason');
  const leads = await s.records('Lead');
  assert.equal(leads.find((l) => l.LastName === 'Ok').HasOptedOutOfEmail, true, 'the rest of the batch succeeded');
  assert.equal(leads.find((l) => l.LastName === 'Bad').HasOptedOutOfEmail, false);
  // the admin fixes the cause and requests a retry in the org
  await s.emu.setFaults({ validationRules: [] });
  s.emu.org.update(null, 'Didomi_Sync_Error__c', errors[0].Id, { Status__c: 'Retry Requested' }, { trusted: true });
  await waitFor('the lead updated after the retry', async () => (await s.records('Lead')).find((l) => l.LastName === 'Bad').HasOptedOutOfEmail === true);
  await waitFor('the error resolved', async () => (await s.records('Didomi_Sync_Error__c'))[0].Status__c === 'Resolved');
});

test('an invalid mapping is reported in the org and skipped; the others keep working', async () => {
  const s = await stack();
  const targetId = (await s.records('Didomi_Sync_Target__c')).find((t) => t.Object__c === 'Lead').Id;
  s.emu.seed({
    Didomi_Field_Mapping__c: [
      { Target__c: targetId, Kind__c: 'Purpose', Purpose_Id__c: PURPOSE, Field_Api_Name__c: 'Company', Active__c: true },
      { Target__c: targetId, Kind__c: 'Purpose', Purpose_Id__c: PURPOSE, Field_Api_Name__c: 'No_Such_Field__c', Active__c: true },
    ],
    Lead: [{ LastName: 'Map', Company: 'Acme', Email: 'map@example.com' }],
  });
  await waitFor(
    'invalid mappings reported',
    async () => (await s.records('Didomi_Sync_Error__c')).filter((e) => e.Error_Code__c === 'INVALID_MAPPING').length === 2,
  );
  const msgs = (await s.records('Didomi_Sync_Error__c')).map((e) => e.Message__c).join('\n');
  assert.match(msgs, /cannot write Lead.Company of type string/);
  assert.match(msgs, /No_Such_Field__c does not exist/);
  await s.post(eventCreated('map@example.com', at(1), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'map@example.com');
  assert.equal(lead.Company, 'Acme');
  assert.equal(lead.HasOptedOutOfEmail, true);
});

test('a match field that does not exist (Email on a business Account) or that the integration user cannot read fails its target alone, with INVALID_MAPPING', async () => {
  const s = await stack();
  const contactTarget = (await s.records('Didomi_Sync_Target__c')).find((t) => t.Object__c === 'Contact');
  const seeded = s.emu.seed({
    Didomi_Sync_Target__c: [
      { Name: 'Accounts', Object__c: 'Account', Active__c: true, Upsert_Mode__c: false, Match_Field__c: 'Email', Deletion_Behavior__c: 'Ignore' },
    ],
    Lead: [{ LastName: 'Iso', Company: 'Acme', Email: 'iso@example.com' }],
    Contact: [{ LastName: 'Iso', Email: 'iso@example.com', Phone: 'iso@example.com' }],
  });
  const accountTarget = seeded.Didomi_Sync_Target__c[0];
  s.emu.seed({
    Didomi_Field_Mapping__c: [
      { Target__c: accountTarget, Kind__c: 'Purpose', Purpose_Id__c: PURPOSE, Field_Api_Name__c: 'PersonHasOptedOutOfEmail', Invert__c: true, Active__c: true },
    ],
  });
  // Contact.Phone exists, but the integration user has no field permission on it.
  s.emu.org.update(null, 'Didomi_Sync_Target__c', contactTarget.Id, { Match_Field__c: 'Phone' }, { trusted: true });
  const targetErrors = async () => (await s.records('Didomi_Sync_Error__c')).filter((e) => e.Error_Code__c === 'INVALID_MAPPING' && !e.Organization_User_Id__c);
  await waitFor('both targets reported', async () => (await targetErrors()).length === 2);
  const byTarget = new Map((await targetErrors()).map((e) => [e.Record_Id__c, e.Message__c]));
  assert.match(byTarget.get(accountTarget)!, /match field Account.Email does not exist or the integration user cannot read it/);
  assert.match(byTarget.get(contactTarget.Id)!, /match field Contact.Phone does not exist or the integration user cannot read it/);
  await s.post(eventCreated('iso@example.com', at(1), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'iso@example.com');
  assert.equal(lead.HasOptedOutOfEmail, true, 'the Lead target keeps syncing');
  let userErrors: any[] = [];
  await waitFor('the user has one error per unusable target', async () => {
    userErrors = (await s.records('Didomi_Sync_Error__c')).filter((e) => e.Organization_User_Id__c === 'iso@example.com');
    return userErrors.length === 2;
  });
  assert.deepEqual(userErrors.map((e) => `${e.Target_Object__c}:${e.Error_Code__c}`).sort(), ['Account:INVALID_MAPPING', 'Contact:INVALID_MAPPING']);
  assert.equal((await s.records('Contact'))[0].HasOptedOutOfEmail, false, 'the Contact target wrote nothing');
  assert.doesNotMatch(await s.metrics(), /didomi_sync_retries_scheduled_total\{reason="INVALID_FIELD/, 'not retried: the failure is permanent');
});

test('user.deleted follows the target deletion behaviour (Clear Consent Fields)', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Del', Company: 'Acme', Email: 'del@example.com' }] });
  await s.post(eventCreated('del@example.com', at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY] } }));
  await s.waitForDrain();
  await s.post(userDeleted('del@example.com', at(2)));
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'del@example.com');
  assert.equal(lead.HasOptedOutOfEmail, true, 'an inverted opt-out field is cleared to its no-consent value: opted out');
  assert.equal(lead.Newsletter_Topics__c, null);
  assert.equal(lead.Weekly_Digest__c, false);
  assert.equal(lead.Didomi_Consents__c, null);
});

test('a match query Salesforce refuses (a field made unreadable since the configuration was read) fails its target alone, not the batch', async () => {
  const s = await stack({ env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' } });
  s.emu.seed({
    Lead: [{ LastName: 'Fls', Company: 'Acme', Email: 'fls@example.com' }],
    Contact: [{ LastName: 'Fls', Email: 'fls@example.com' }],
  });
  // The admin removes the integration user's read access to Contact.Email after the middleware read describe.
  s.emu.org.schema.permissionSets.get('Didomi_Sync_Integration')!.fields.delete('contact.email');
  await s.post(eventCreated('fls@example.com', at(1), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'fls@example.com');
  assert.equal(lead.HasOptedOutOfEmail, true, 'the Lead target is written');
  let errors: any[] = [];
  await waitFor('the Contact failure recorded', async () => (errors = await s.records('Didomi_Sync_Error__c')).length === 1);
  assert.equal(errors[0].Target_Object__c, 'Contact');
  assert.equal(errors[0].Error_Code__c, 'INVALID_FIELD');
  assert.match(errors[0].Message__c, /match query on Contact: .*No such column 'Email'/s);
});

test('Delete Record without Delete permission on the object is reported and clears the consent fields instead; with it, the record is deleted', async () => {
  const run = async (grantDelete: boolean) => {
    const s = await stack({
      seed: { leadDeletion: 'Delete Record', contact: false },
      ...(grantDelete
        ? {
            emulator: {
              extraPermissionSets: { Consent_Fields_Integration: { ...CUSTOMER_PERMISSION_SETS.Consent_Fields_Integration, Lead: 'delete' } },
            },
          }
        : {}),
    });
    s.emu.seed({ Lead: [{ LastName: 'Gone', Company: 'Acme', Email: 'gone@example.com' }] });
    await s.post(eventCreated('gone@example.com', at(1), { purposes: { [PURPOSE]: true } }));
    await s.waitForDrain();
    await s.post(userDeleted('gone@example.com', at(2)));
    await s.waitForDrain();
    return s;
  };
  const denied = await run(false);
  const [lead] = await byEmail(denied, 'Lead', 'gone@example.com');
  assert.ok(lead, 'not deleted');
  assert.equal(lead.HasOptedOutOfEmail, true, 'cleared: the inverted opt-out field holds its no-consent value');
  await waitFor('the problem reported', async () =>
    (await denied.records('Didomi_Sync_Error__c')).some((e) => e.Error_Code__c === 'INVALID_MAPPING' && /cannot delete Lead records/.test(e.Message__c)),
  );
  const allowed = await run(true);
  assert.deepEqual(await byEmail(allowed, 'Lead', 'gone@example.com'), [], 'deleted');
});

test('one record matches two users: it keeps the user whose Didomi_User_Id__c it carries, the other is dead-lettered (AMBIGUOUS_MATCH), never flip-flopping', async () => {
  // The Lead's Email is one Didomi user's organization_user_id; its Didomi_User_Id__c holds another's (crm-42).
  let store!: HeldClaimsStore;
  const s = await stack({ seed: { contact: false }, makeStore: (env) => (store = new HeldClaimsStore(env.SQLITE_PATH)) });
  const ids = s.emu.seed({ Lead: [{ LastName: 'Two', Company: 'Acme', Email: 'two@example.com', Didomi_User_Id__c: 'crm-42' }] });
  const leadId = ids.Lead[0];
  const token = await s.token();
  // both in one batch (claims held until both are stored), in both orders over two rounds; then each alone
  const together = async (...bodies: unknown[]) => {
    const before = metricSum(await s.metrics(), 'didomi_sync_batch_users_count');
    store.held = true;
    for (const b of bodies) assert.equal((await s.post(b, token)).status, 202);
    store.held = false;
    await s.waitForDrain();
    assert.equal(metricSum(await s.metrics(), 'didomi_sync_batch_users_count') - before, 1, 'both users in one batch');
  };
  await together(eventCreated('two@example.com', at(1), { purposes: { [PURPOSE]: false } }), eventCreated('crm-42', at(1), { purposes: { [PURPOSE]: true } }));
  await together(eventCreated('crm-42', at(2), { purposes: { [PURPOSE]: false } }), eventCreated('two@example.com', at(2), { purposes: { [PURPOSE]: true } }));
  await s.post(eventCreated('two@example.com', at(3), { purposes: { [PURPOSE]: false } }), token);
  await s.waitForDrain();
  const leads = await s.records('Lead');
  assert.equal(leads.length, 1, 'no record created for either user');
  assert.equal(leads[0].Didomi_User_Id__c, 'crm-42', 'the record still carries its holder');
  assert.equal(leads[0].HasOptedOutOfEmail, true, "the holder's newest choice (refused at 2)");
  const writes = ((await (await fetch(`${s.emu.url}/__emulator/writes?since=0`)).json()) as any).writes.filter((w: any) => w.sobject === 'Lead');
  assert.ok(
    writes.every((w: any) => w.fields.Didomi_User_Id__c === undefined || w.fields.Didomi_User_Id__c === 'crm-42'),
    'never written with the other user id',
  );
  let errors: any[] = [];
  await waitFor('the ambiguous match dead-lettered', async () => (errors = await s.records('Didomi_Sync_Error__c')).length > 0);
  assert.deepEqual(
    errors.map((e) => [e.Organization_User_Id__c, e.Error_Code__c, e.Record_Id__c]),
    [['two@example.com', 'AMBIGUOUS_MATCH', leadId]],
    'one letter (the same key each time), for the user who does not hold the record',
  );
});

test('heartbeat: Didomi_Sync_Status__c upserted with counters and API usage', async () => {
  const s = await stack({ env: { HEARTBEAT_MS: '200' } });
  s.emu.seed({ Lead: [{ LastName: 'Hb', Company: 'Acme', Email: 'hb@example.com' }] });
  await s.post(eventCreated('hb@example.com', at(1), { purposes: { [PURPOSE]: true } }));
  await s.waitForDrain();
  await waitFor('a heartbeat with the synced event', async () => {
    const [st] = await s.records('Didomi_Sync_Status__c');
    return !!st && st.Events_Synced_Today__c >= 1 && st.Api_Usage_Max__c === 1_000_000;
  });
  assert.equal((await s.records('Didomi_Sync_Status__c')).length, 1, 'one record per instance');
});

test('heartbeat and configuration refresh keep their own periods: a short CONFIG_REFRESH_MS does not rewrite the heartbeat', async () => {
  const s = await stack({ env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '100' } });
  const composites = () => s.emu.stats().apiCalls.byResource.composite ?? 0;
  const start = composites();
  // each refresh is one composite (targets, mappings, retry requests, describes); nothing else runs here
  await waitFor('five configuration refreshes', async () => composites() - start >= 5);
  const writes = ((await (await fetch(`${s.emu.url}/__emulator/writes?since=0`)).json()) as any).writes.filter(
    (w: any) => w.sobject === 'Didomi_Sync_Status__c',
  );
  assert.equal(writes.length, 1, 'the heartbeat written once, at start');
});

test('a slow org at start: webhooks are accepted at once; didomi_sync_config_targets reads 0 until the configuration is read, then the number of active targets', async () => {
  // every REST call held from the start: the first configuration read waits in flight
  const s = await stack({ faults: { hold: true }, waitForStart: false });
  s.emu.seed({ Lead: [{ LastName: 'Slow', Company: 'Acme', Email: 'slow@example.com' }] });
  const targets = async () => Number(/^didomi_sync_config_targets (\S+)/m.exec(await s.metrics())?.[1]);
  await waitFor('the first configuration read in flight', () => s.emu.stats().inFlight > 0);
  assert.equal((await s.post(eventCreated('slow@example.com', at(1), { purposes: { [PURPOSE]: true } }))).status, 202, 'accepted while the org is slow');
  assert.equal(await targets(), 0, 'nothing loaded while the read is unanswered');
  await s.emu.setFaults({ hold: false });
  await waitFor('the configuration loaded', async () => (await targets()) > 0);
  assert.equal(await targets(), 2, 'the seeded Lead and Contact targets');
  assert.equal(s.emu.stats().abandoned, 0, 'the first read was answered, not given up on by a start that waited for it');
  await s.waitForDrain();
  assert.equal((await byEmail(s, 'Lead', 'slow@example.com'))[0].HasOptedOutOfEmail, false, 'then synced');
});

test('PostgreSQL store: the same flow with several replicas sharing the queue', async () => {
  const schema = `sync_it_${process.pid}`;
  const pg = (await import('pg')).default;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  try {
    const url = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
    // three middleware instances, one org, one PostgreSQL queue
    const first = await stack({ store: 'postgres', databaseUrl: url, env: { INSTANCE_ID: 'replica-1' } });
    const replicas = [first];
    for (const n of [2, 3]) replicas.push(await stack({ store: 'postgres', databaseUrl: url, replicaOf: first, env: { INSTANCE_ID: `replica-${n}` } }));
    first.emu.seed({ Lead: Array.from({ length: 60 }, (_, i) => ({ LastName: `P${i}`, Company: 'Acme', Email: `pg${i}@example.com` })) });
    const tokens = await Promise.all(replicas.map((r) => r.token()));
    const posted = await Promise.all(
      Array.from({ length: 60 }, (_, i) => replicas[i % 3].post(eventCreated(`pg${i}@example.com`, at(1), { purposes: { [PURPOSE]: false } }), tokens[i % 3])),
    );
    assert.ok(
      posted.every((r) => r.status === 202),
      'every replica accepts',
    );
    for (const r of replicas) await r.waitForDrain();
    assert.equal((await first.records('Lead')).filter((l) => l.HasOptedOutOfEmail).length, 60);
    const metrics = await Promise.all(replicas.map((r) => r.metrics()));
    assert.deepEqual(
      metrics.map((m) => metricSum(m, 'didomi_sync_events_accepted_total')),
      [20, 20, 20],
    );
    assert.equal(
      metrics.reduce((n, m) => n + metricSum(m, 'didomi_sync_events_synced_total'), 0),
      60,
      'each event synced by exactly one replica',
    );
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});

test('SIGTERM mid-batch loses nothing: the restarted service finishes the work', async () => {
  // housekeeping only at start, so the request in flight at SIGTERM is the batch's own
  const s = await stack({ mode: 'child', env: { BATCH_WAIT_MS: '20', HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' } });
  await s.emu.setFaults({ hold: true }); // the batch's calls wait until the service is gone, whatever the machine's speed
  s.emu.seed({ Lead: Array.from({ length: 30 }, (_, i) => ({ LastName: `T${i}`, Company: 'Acme', Email: `term${i}@example.com` })) });
  const token = await s.token();
  for (let i = 0; i < 30; i++) assert.equal((await s.post(eventCreated(`term${i}@example.com`, at(1), { purposes: { [PURPOSE]: false } }), token)).status, 202);
  await waitFor('a batch waiting on Salesforce', () => s.emu.stats().inFlight > 0);
  await s.kill('SIGTERM');
  await s.emu.setFaults({ hold: false });
  await s.restart();
  await waitFor('all 30 leads written after restart', async () => (await s.records('Lead')).filter((l) => l.HasOptedOutOfEmail).length === 30, 30_000);
});
