// Issue 16, end to end: webhooks in, over HTTP to the org emulator, Salesforce's consent data model out
// (Individual, DataUsePurpose, ContactPointTypeConsent; Object Reference for the Salesforce Platform).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack, StackOptions } from '../../test/support/stack.ts';
import { stacksClosedAfterFile } from './support/stacks.ts';
import { metricSum, waitFor } from '../../test/support/wait-for.ts';
import { eventCreated, eventUpdated, userDeleted, PURPOSE, PREFERENCE } from '../../test/support/didomi-events.ts';
import { PHONE_PURPOSE, VALUE_WEEKLY } from '../../test/support/org-fixture.ts';
import { consentKey } from '../src/sync/consent-model.ts';

const started = stacksClosedAfterFile();
const stack = (o: StackOptions = {}) => started({ ...o, seed: { consentModel: true, ...(o.seed || {}) } });
const t0 = Date.parse('2026-11-02T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const sfTime = (d: Date) => d.toISOString().replace('Z', '+0000');
const GIVEN = { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: false }, preferences: { [PREFERENCE]: [VALUE_WEEKLY] } };

/** The person's consents by "DataUsePurpose name/channel". */
async function consentsOf(s: Stack, email: string) {
  const purposes = new Map((await s.records('DataUsePurpose')).map((p) => [p.Id, p.Name]));
  const out = new Map<string, any>();
  for (const c of await s.records('ContactPointTypeConsent')) {
    if (
      ![consentKey(email, 'Marketing', 'Email'), consentKey(email, 'Marketing', 'Phone'), consentKey(email, 'Weekly digest', 'Email')].includes(
        c.Didomi_Consent_Key__c,
      )
    )
      continue;
    const k = `${purposes.get(c.DataUsePurposeId)}/${c.ContactPointType}`;
    assert.ok(!out.has(k), `one consent per purpose and channel: ${email} ${k}`);
    out.set(k, c);
  }
  return out;
}

test("a person's consent lands in the consent model: one Individual linked from Lead and Contact, one OptIn/OptOut consent per purpose and channel, stamped with Didomi's time", async () => {
  const s = await stack();
  s.emu.seed({
    Lead: [{ LastName: 'Cm', Company: 'Acme', Email: 'cm@example.com' }],
    Contact: [{ LastName: 'Cm', Email: 'cm@example.com' }],
  });
  await s.post(eventCreated('cm@example.com', at(1), GIVEN));
  await s.waitForDrain();
  const individuals = (await s.records('Individual')).filter((i) => i.Didomi_User_Id__c === 'cm@example.com');
  assert.equal(individuals.length, 1, 'one Individual for the Didomi user');
  const ind = individuals[0];
  const [lead] = (await s.records('Lead')).filter((r) => r.Email === 'cm@example.com');
  const [contact] = (await s.records('Contact')).filter((r) => r.Email === 'cm@example.com');
  assert.equal(lead.IndividualId, ind.Id, 'the Lead points at the Individual');
  assert.equal(contact.IndividualId, ind.Id, 'the Contact points at the Individual');
  assert.equal(lead.HasOptedOutOfEmail, false, 'the fields are written as before');
  const c = await consentsOf(s, 'cm@example.com');
  assert.deepEqual([...c.keys()].sort(), ['Marketing/Email', 'Marketing/Phone', 'Weekly digest/Email']);
  assert.equal(c.get('Marketing/Email').PrivacyConsentStatus, 'OptIn');
  assert.equal(c.get('Marketing/Phone').PrivacyConsentStatus, 'OptOut', 'a refusal is OptOut');
  assert.equal(c.get('Weekly digest/Email').PrivacyConsentStatus, 'OptIn', 'a preference value maps like a purpose');
  for (const x of c.values()) {
    assert.equal(x.PartyId, ind.Id);
    assert.equal(x.CaptureSource, 'Didomi');
    assert.equal(x.CaptureDate, sfTime(at(1)), "CaptureDate is Didomi's event time");
    assert.equal(x.DoubleConsentCaptureDate, null, 'no double opt-in');
  }
  // withdrawal: the same records change, nothing is added
  await s.post(eventCreated('cm@example.com', at(5), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const c2 = await consentsOf(s, 'cm@example.com');
  assert.equal(c2.get('Marketing/Email').Id, c.get('Marketing/Email').Id, 'updated in place');
  assert.equal(c2.get('Marketing/Email').PrivacyConsentStatus, 'OptOut');
  assert.equal(c2.get('Marketing/Email').CaptureDate, sfTime(at(5)));
  assert.equal((await s.records('Individual')).length, 1);
  assert.equal((await s.records('DataUsePurpose')).filter((p) => p.Name === 'Marketing').length, 1, 'the DataUsePurpose is created once');
});

test("the org's own Individual is found, not duplicated: a Contact already linked to one makes it the person's, and the Lead is linked to it", async () => {
  const s = await stack();
  const {
    Individual: [own],
  } = s.emu.seed({ Individual: [{ LastName: 'Own' }] });
  s.emu.seed({
    Lead: [{ LastName: 'Ow', Company: 'Acme', Email: 'own@example.com' }],
    Contact: [{ LastName: 'Ow', Email: 'own@example.com', IndividualId: own }],
  });
  await s.post(eventCreated('own@example.com', at(1), GIVEN));
  await s.waitForDrain();
  const individuals = await s.records('Individual');
  assert.equal(individuals.length, 1, 'no second Individual');
  assert.equal(individuals[0].Didomi_User_Id__c, 'own@example.com', 'the Didomi id is set on the existing one');
  assert.equal(individuals[0].LastName, 'Own', 'its name is untouched');
  const [lead] = (await s.records('Lead')).filter((r) => r.Email === 'own@example.com');
  const [contact] = (await s.records('Contact')).filter((r) => r.Email === 'own@example.com');
  assert.equal(contact.IndividualId, own);
  assert.equal(lead.IndividualId, own);
  for (const x of (await consentsOf(s, 'own@example.com')).values()) assert.equal(x.PartyId, own);
});

test('never duplicated across retries: with rows failing to lock at random, every person ends with one Individual and one consent per purpose and channel', async () => {
  const s = await stack();
  const N = 20;
  const email = (i: number) => `retry${i}@example.com`;
  s.emu.seed({ Lead: Array.from({ length: N }, (_, i) => ({ LastName: `R${i}`, Company: 'Acme', Email: email(i) })) });
  await s.emu.setFaults({ lockRowShare: 0.3 });
  for (let i = 0; i < N; i++) await s.post(eventCreated(email(i), at(1), GIVEN));
  // Wait until the row locks forced retries of people some of whose writes had succeeded, then let them through.
  const retries = async () => metricSum(await s.metrics(), 'didomi_sync_retries_scheduled_total');
  await waitFor(
    'row locks forcing retries after some Individuals were written',
    async () => (await retries()) >= 5 && (await s.records('Individual')).length >= 1,
  );
  await s.emu.setFaults({ lockRowShare: 0 });
  await s.waitForDrain();
  const individuals = await s.records('Individual');
  for (let i = 0; i < N; i++) {
    const mine = individuals.filter((x) => x.Didomi_User_Id__c === email(i));
    assert.equal(mine.length, 1, `${email(i)}: one Individual`);
    const c = await consentsOf(s, email(i));
    assert.equal(c.size, 3, `${email(i)}: three consents`);
    for (const x of c.values()) assert.equal(x.PartyId, mine[0].Id);
  }
  assert.equal((await s.records('ContactPointTypeConsent')).length, 3 * N, 'no duplicate consent at all');
});

test('double opt-in: a pending grant records no OptIn; once confirmed, OptIn with CaptureDate the choice and DoubleConsentCaptureDate the confirmation', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Doi', Company: 'Acme', Email: 'doi@example.com' }] });
  await s.post(eventCreated('doi@example.com', at(1), { purposes: { [PURPOSE]: false } }));
  await s.post(eventCreated('doi@example.com', at(2), { purposes: { [PURPOSE]: true } }, { id: 'ev-doi', status: 'pending_approval' }));
  await s.waitForDrain();
  let c = await consentsOf(s, 'doi@example.com');
  assert.equal(c.get('Marketing/Email').PrivacyConsentStatus, 'OptOut', 'pending: still OptOut');
  await s.post(eventUpdated('doi@example.com', at(2), { purposes: { [PURPOSE]: true } }, { id: 'ev-doi', status: 'confirmed', updatedAt: at(9) }));
  await s.waitForDrain();
  c = await consentsOf(s, 'doi@example.com');
  const x = c.get('Marketing/Email');
  assert.equal(x.PrivacyConsentStatus, 'OptIn', 'confirmed: OptIn');
  assert.equal(x.CaptureDate, sfTime(at(2)), 'captured when the person chose');
  assert.equal(x.DoubleConsentCaptureDate, sfTime(at(9)), 'double consent when Didomi confirmed');
});

test('erasure: every consent of an erased person becomes OptOut (never OptIn); a stranger erased creates no Individual', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Gone', Company: 'Acme', Email: 'gone@example.com' }] });
  await s.post(eventCreated('gone@example.com', at(1), GIVEN));
  await s.waitForDrain();
  assert.equal((await consentsOf(s, 'gone@example.com')).get('Marketing/Email').PrivacyConsentStatus, 'OptIn');
  await s.post(userDeleted('gone@example.com', at(3)));
  await s.post(userDeleted('stranger@example.com', at(3)));
  await s.waitForDrain();
  const c = await consentsOf(s, 'gone@example.com');
  assert.equal(c.size, 3);
  for (const [k, x] of c) {
    assert.equal(x.PrivacyConsentStatus, 'OptOut', `${k}: OptOut after erasure`);
    assert.equal(x.CaptureDate, sfTime(at(3)), 'captured at the erasure');
  }
  assert.equal((await s.records('Individual')).filter((i) => i.Didomi_User_Id__c === 'stranger@example.com').length, 0);
  // a choice after the erasure: what was not said again stays refused
  await s.post(eventCreated('gone@example.com', at(5), { purposes: { [PHONE_PURPOSE]: true } }));
  await s.waitForDrain();
  const d = await consentsOf(s, 'gone@example.com');
  assert.equal(d.get('Marketing/Phone').PrivacyConsentStatus, 'OptIn', 'the new choice applies');
  assert.equal(d.get('Marketing/Email').PrivacyConsentStatus, 'OptOut', 'the consent given before the erasure does not come back');
  assert.equal(d.get('Weekly digest/Email').PrivacyConsentStatus, 'OptOut');
});

test('budget: 100 people cost at most 4 API calls per batch with the consent model (plus 2 once for the DataUsePurpose lookup), and a redelivery writes nothing', async (t) => {
  // No heartbeat or configuration read during the measure: every call counted is the sync's.
  const s = await stack({ env: { BATCH_MAX_USERS: '100', BATCH_WAIT_MS: '500', HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' } });
  const N = 100;
  const email = (i: number) => `b${i}@example.com`;
  s.emu.seed({ Lead: Array.from({ length: N }, (_, i) => ({ LastName: `B${i}`, Company: 'Acme', Email: email(i) })) });
  const batches = async () => Number(/didomi_sync_batch_users_count (\d+)/.exec(await s.metrics())?.[1] ?? 0);
  const calls0 = s.emu.stats().apiCalls.total;
  const batches0 = await batches();
  for (let i = 0; i < N; i++) await s.post(eventCreated(email(i), at(1), GIVEN));
  await s.waitForDrain();
  const calls1 = s.emu.stats().apiCalls.total;
  const batches1 = await batches();
  assert.equal((await s.records('Individual')).length, N);
  assert.equal((await s.records('ContactPointTypeConsent')).length, 3 * N);
  // Per batch: match query, field writes, Individuals, consents + links (all in /composite); once: the DataUsePurpose query and create.
  const perBatch = (calls1 - calls0 - 2) / (batches1 - batches0);
  t.diagnostic(`first sync: ${calls1 - calls0} calls in ${batches1 - batches0} batch(es) for ${N} people, ${3 * N} consents`);
  assert.ok(perBatch <= 4, `at most 4 calls per batch after the one-time purpose lookup (${perBatch})`);
  // The same consents again (Didomi redelivers under new event ids): nothing in the consent model changes.
  const before = await s.records('ContactPointTypeConsent');
  for (let i = 0; i < N; i++) await s.post(eventCreated(email(i), at(1), GIVEN));
  await s.waitForDrain();
  const after = await s.records('ContactPointTypeConsent');
  assert.deepEqual(
    after.map((r) => r.LastModifiedDate),
    before.map((r) => r.LastModifiedDate),
    'no consent rewritten',
  );
  const calls2 = s.emu.stats().apiCalls.total;
  const batches2 = await batches();
  t.diagnostic(`redelivery: ${calls2 - calls1} calls in ${batches2 - batches1} batch(es)`);
  assert.ok(calls2 - calls1 <= batches2 - batches1, 'a redelivery costs the match query only: nothing written');
});

test("person accounts: the person Account's PersonIndividualId points at the person's one Individual, like the Lead's IndividualId", async () => {
  const s = await stack({ seed: { account: true } });
  s.emu.seed({
    Lead: [{ LastName: 'Pa', Company: 'Acme', Email: 'pa@example.com' }],
    Account: [{ Name: 'Pa Person', PersonEmail: 'pa@example.com', IsPersonAccount: true }],
  });
  await s.post(eventCreated('pa@example.com', at(1), GIVEN));
  await s.waitForDrain();
  const individuals = (await s.records('Individual')).filter((i) => i.Didomi_User_Id__c === 'pa@example.com');
  assert.equal(individuals.length, 1, 'one Individual for the Didomi user, not one per object');
  const [account] = (await s.records('Account')).filter((r) => r.PersonEmail === 'pa@example.com');
  const [lead] = (await s.records('Lead')).filter((r) => r.Email === 'pa@example.com');
  assert.equal(account.PersonHasOptedOutOfEmail, false, 'the field mapping is written');
  assert.equal(lead.IndividualId, individuals[0].Id);
  assert.equal(account.PersonIndividualId, individuals[0].Id, 'the person Account points at the Individual');
  await s.post(eventCreated('pa@example.com', at(5), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  assert.equal((await s.records('Individual')).length, 1, 'still one Individual after a second sync');
});

test("an Individual shared by two Didomi users never switches owner: the first keeps it, the second's consents go under its own Individual and its Contact stays linked to the org's", async () => {
  const s = await stack();
  const {
    Individual: [shared],
  } = s.emu.seed({ Individual: [{ LastName: 'Shared' }] });
  s.emu.seed({
    Contact: [
      { LastName: 'One', Email: 'one@example.com', IndividualId: shared },
      { LastName: 'Two', Email: 'two@example.com', IndividualId: shared },
    ],
  });
  await s.post(eventCreated('one@example.com', at(1), GIVEN));
  await s.waitForDrain();
  await s.post(eventCreated('two@example.com', at(2), GIVEN));
  await s.waitForDrain();
  // both in one batch too: the second of the pair must not take it either
  await s.post(eventCreated('one@example.com', at(3), GIVEN));
  await s.post(eventCreated('two@example.com', at(3), GIVEN));
  await s.waitForDrain();
  const byId = new Map((await s.records('Individual')).map((i) => [i.Id, i]));
  assert.equal(byId.get(shared).Didomi_User_Id__c, 'one@example.com', 'the first owner keeps the Individual');
  const two = [...byId.values()].filter((i) => i.Didomi_User_Id__c === 'two@example.com');
  assert.equal(two.length, 1, 'the second user has its own Individual');
  for (const x of (await consentsOf(s, 'one@example.com')).values()) assert.equal(x.PartyId, shared);
  for (const x of (await consentsOf(s, 'two@example.com')).values())
    assert.equal(x.PartyId, two[0].Id, "the second user's consents are under its own Individual");
  const contacts = await s.records('Contact');
  assert.equal(contacts.find((c) => c.Email === 'two@example.com').IndividualId, shared, 'its Contact is not re-pointed');
  assert.equal((await s.records('Lead')).filter((l) => l.Email === 'two@example.com')[0]?.IndividualId, two[0].Id, 'its new Lead points at its own Individual');
});

test('two replicas creating the same DataUsePurpose at once make one record per name (upserted by its Didomi_Purpose_Key__c), and both persons consent to it', async () => {
  const a = await stack();
  const b = await stack({ replicaOf: a, env: { INSTANCE_ID: 'replica-2' } });
  a.emu.seed({
    Lead: [
      { LastName: 'Ra', Company: 'Acme', Email: 'ra@example.com' },
      { LastName: 'Rb', Company: 'Acme', Email: 'rb@example.com' },
    ],
  });
  // Latency keeps both replicas' lookups in flight together, so both find no purpose and both write one.
  await a.emu.setFaults({ latencyMs: 300 });
  await Promise.all([a.post(eventCreated('ra@example.com', at(1), GIVEN)), b.post(eventCreated('rb@example.com', at(1), GIVEN))]);
  await Promise.all([a.waitForDrain(), b.waitForDrain()]);
  await a.emu.setFaults({ latencyMs: 0 });
  const purposes = await a.records('DataUsePurpose');
  assert.deepEqual(purposes.map((p) => p.Name).sort(), ['Marketing', 'Weekly digest'], 'one DataUsePurpose per name');
  const ids = new Set(purposes.map((p) => p.Id));
  for (const email of ['ra@example.com', 'rb@example.com']) {
    const c = await consentsOf(a, email);
    assert.equal(c.size, 3, `${email}: three consents`);
    for (const x of c.values()) assert.ok(ids.has(x.DataUsePurposeId), `${email}: its consents point at the one purpose`);
  }
});

test('Data Protection and Privacy off (no consent model objects in describe): INVALID_MAPPING once on each Consent Model mapping, no person dead-lettered, field mappings keep syncing', async () => {
  const s = await stack({ emulator: { dataProtection: false } });
  s.emu.seed({ Lead: [{ LastName: 'Off', Company: 'Acme', Email: 'off@example.com' }] });
  await s.post(eventCreated('off@example.com', at(1), GIVEN));
  await s.waitForDrain();
  await s.post(eventCreated('off@example.com', at(2), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const [lead] = (await s.records('Lead')).filter((r) => r.Email === 'off@example.com');
  assert.equal(lead.HasOptedOutOfEmail, true, 'the field mappings keep syncing (the withdrawal landed)');
  const errors = await s.records('Didomi_Sync_Error__c');
  assert.deepEqual(
    errors.filter((e) => e.Didomi_User_Id__c === 'off@example.com'),
    [],
    'no dead letter for the person',
  );
  const invalid = errors.filter((e) => e.Error_Code__c === 'INVALID_MAPPING');
  assert.equal(invalid.length, 3, 'one INVALID_MAPPING per Consent Model mapping, reported once');
  assert.ok(
    invalid.every((e) => /ContactPointTypeConsent|Individual|DataUsePurpose/.test(e.Message__c ?? e.Error_Message__c ?? JSON.stringify(e))),
    'the message names the missing object',
  );
});
