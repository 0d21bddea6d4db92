// Issue 11 item 3: a withdrawal is never blocked by an unrelated field of the same record. A field
// Salesforce refuses (its per-record error names it in `fields`, reference/salesforce.md "sObject
// Collections") is dead-lettered alone, the record is written without it, and later writes do not
// repeat it with the same value. The Didomi_Consents__c snapshot stays within its 131,072 characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../../test/support/stack.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { stacksClosedAfterFile } from './support/stacks.ts';
import { eventCreated, PURPOSE, PREFERENCE } from '../../test/support/didomi-events.ts';
import { VALUE_OFFERS, VALUE_WEEKLY } from '../../test/support/org-fixture.ts';

const stack = stacksClosedAfterFile({ env: { BATCH_WAIT_MS: '100' } });
const at = (s: number) => new Date(Date.parse('2026-11-01T10:00:00Z') + s * 1000);
const rejections = async (s: Stack, field: string) =>
  ((await (await fetch(`${s.emu.url}/__emulator/rejections`)).json()) as { rejections: { fields: string[] }[] }).rejections.filter((r) =>
    r.fields.includes(field),
  ).length;

test('a preference value missing from a restricted multi-select picklist is dead-lettered alone; the withdrawal lands, on an existing and an upserted record', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Old', Company: 'Acme', Email: 'old@example.com', HasOptedOutOfEmail: false }] });
  const token = await s.token();
  // Given, with a preference value the org's picklist does not have yet ("NEWTOPIC").
  for (const e of ['old@example.com', 'new@example.com'])
    assert.equal(
      (await s.post(eventCreated(e, at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY, 'NEWTOPIC'] } }), token)).status,
      202,
    );
  await s.waitForDrain();
  let errors: any[] = [];
  await waitFor('two dead letters', async () => (errors = await s.records('Didomi_Sync_Error__c')).length === 2);
  for (const e of errors) {
    assert.equal(e.Error_Code__c, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    assert.deepEqual(JSON.parse(e.Payload__c), { Newsletter_Topics__c: 'NEWTOPIC;Weekly digest' }, 'only the refused field is dead-lettered');
    assert.match(e.Message__c, /Newsletter_Topics__c/);
  }
  let leads = await s.records('Lead');
  for (const email of ['old@example.com', 'new@example.com']) {
    const l = leads.find((x) => x.Email === email);
    assert.ok(l, `${email} has a record`);
    assert.equal(l.HasOptedOutOfEmail, false, 'the consent is written without the refused field');
    assert.equal(l.Weekly_Digest__c, true);
    assert.equal(l.Newsletter_Topics__c ?? null, null);
  }
  // Then withdrawn: the refusal lands, and the refused field is not sent again with the same value.
  for (const e of ['old@example.com', 'new@example.com'])
    assert.equal((await s.post(eventCreated(e, at(2), { purposes: { [PURPOSE]: false } }), token)).status, 202);
  await s.waitForDrain();
  leads = await s.records('Lead');
  for (const email of ['old@example.com', 'new@example.com']) assert.equal(leads.find((x) => x.Email === email).HasOptedOutOfEmail, true, `${email} opted out`);
  assert.equal(await rejections(s, 'Newsletter_Topics__c'), 2, 'one refusal per record, none repeated by the later write');
  assert.equal((await s.records('Didomi_Sync_Error__c')).length, 2);
});

test("a refused field never keeps an older, broader grant: it gets its no-consent value, and the person's refused value is dead-lettered", async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Topics', Company: 'Acme', Email: 'topics@example.com' }] });
  const token = await s.token();
  // First the person subscribes to Weekly digest and Offers: both exist in the picklist.
  await s.post(
    eventCreated('topics@example.com', at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY, VALUE_OFFERS] } }),
    token,
  );
  await s.waitForDrain();
  const lead = async () => (await s.records('Lead')).find((x) => x.Email === 'topics@example.com');
  assert.equal((await lead()).Newsletter_Topics__c, 'Offers;Weekly digest');
  // Then drops Offers and adds a topic the org's picklist does not have yet: that value is refused.
  await s.post(eventCreated('topics@example.com', at(2), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY, 'NEWTOPIC'] } }), token);
  await s.waitForDrain();
  let errors: any[] = [];
  await waitFor('the dead letter', async () => (errors = await s.records('Didomi_Sync_Error__c')).length === 1);
  assert.deepEqual(JSON.parse(errors[0].Payload__c), { Newsletter_Topics__c: 'NEWTOPIC;Weekly digest' }, "the person's value, for the admin to retry");
  assert.match(errors[0].Message__c, /no-consent value/);
  const after = await lead();
  assert.ok(!String(after.Newsletter_Topics__c ?? '').includes('Offers'), `Offers was withdrawn but the field still says ${after.Newsletter_Topics__c}`);
  assert.equal(after.Newsletter_Topics__c ?? null, null, 'the no-consent value: empty');
  assert.equal(after.Weekly_Digest__c, true, 'the rest of the record is written');
});

test('a Didomi_Consents__c snapshot over 131,072 characters is truncated (valid JSON, marked) and the withdrawal lands', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Big', Company: 'Acme', Email: 'big@example.com', HasOptedOutOfEmail: false }] });
  const body = eventCreated('big@example.com', at(1), { purposes: { [PURPOSE]: false } }) as any;
  body.parameters.entity.user.metadata = { notes: 'n'.repeat(150_000), small: 'kept' };
  assert.equal((await s.post(body)).status, 202);
  await s.waitForDrain();
  const [lead] = (await s.records('Lead')).filter((l) => l.Email === 'big@example.com');
  assert.equal(lead.HasOptedOutOfEmail, true, 'the withdrawal landed');
  assert.ok(lead.Didomi_Consents__c.length <= 131_072, `snapshot is ${lead.Didomi_Consents__c.length} characters`);
  const snap = JSON.parse(lead.Didomi_Consents__c);
  assert.equal(snap.truncated, true);
  assert.equal(snap.purposes.gdpr[PURPOSE], false, 'the consents are kept; the biggest part is dropped');
  assert.equal(snap.attributes['metadata.small'], 'kept');
  assert.equal(snap.attributes['metadata.notes'], undefined);
  assert.equal((await s.records('Didomi_Sync_Error__c')).length, 0, 'nothing to dead-letter');
});

test('withinLength: a snapshot that fits is unchanged; one that does not is valid JSON within the limit, marked truncated, biggest entries dropped first', async () => {
  const { withinLength } = await import('../src/sync/project.ts');
  const small = JSON.stringify({ organization_user_id: 'a', purposes: { gdpr: { p: true } }, preferences: {}, attributes: {} });
  assert.equal(withinLength(small, 1000), small);
  const attributes: Record<string, string> = {};
  for (let i = 0; i < 5000; i++) attributes[`metadata.k${i}`] = 'v'.repeat(i % 97);
  const big = JSON.stringify({ organization_user_id: 'a', purposes: { gdpr: { p: false } }, preferences: { gdpr: { 'p:q': ['x'] } }, attributes });
  for (const max of [131_072, 20_000, 500]) {
    const out = withinLength(big, max);
    assert.ok(out.length <= max, `${out.length} <= ${max}`);
    const snap = JSON.parse(out);
    assert.equal(snap.truncated, true);
    assert.equal(snap.purposes.gdpr.p, false, 'small entries (the consents) are kept');
    const size = (k: string) => JSON.stringify(k).length + JSON.stringify(attributes[k]).length;
    const kept = Object.keys(snap.attributes).map(size);
    const dropped = Object.keys(attributes)
      .filter((k) => !(k in snap.attributes))
      .map(size);
    assert.ok(Math.max(0, ...kept) <= Math.min(...dropped), 'no kept attribute is bigger than a dropped one');
  }
});
