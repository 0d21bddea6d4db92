// The consent data model as the Object Reference documents it (src/consent-model-schema.ts): required
// fields, restricted picklists, references of the right type, upsert by the package's external ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, client } from './support.ts';
import type { Emulator } from '../src/index.ts';

let emu: Emulator;
let c: Awaited<ReturnType<typeof client>>;
before(async () => {
  emu = await start({ dailyApiLimit: 100_000 });
  c = await client(emu);
});
after(async () => {
  await emu.close();
});

const codes = (body: any[]) => body.map((r: any) => (r.success ? 'ok' : `${r.errors[0].statusCode} ${r.errors[0].fields.join(',')}`));

test('Individual, DataUsePurpose, ContactPointTypeConsent: required fields, restricted picklists, reference types', async () => {
  const base = await c.call('POST', '/composite/sobjects', {
    allOrNone: false,
    records: [
      { attributes: { type: 'Individual' }, LastName: 'Martin', Didomi_User_Id__c: 'a@example.com' },
      { attributes: { type: 'DataUsePurpose' }, Name: 'Marketing' },
      { attributes: { type: 'Lead' }, LastName: 'L', Company: 'C' },
      { attributes: { type: 'Individual' }, Didomi_User_Id__c: 'no-last-name@example.com' },
      { attributes: { type: 'DataUsePurpose' } },
    ],
  });
  assert.deepEqual(codes(base.body), ['ok', 'ok', 'ok', 'REQUIRED_FIELD_MISSING LastName', 'REQUIRED_FIELD_MISSING Name']);
  const [ind, purpose, lead] = base.body.map((r: any) => r.id);
  assert.ok(ind.startsWith('0PK') && purpose.startsWith('0ZW'), 'Salesforce key prefixes');
  const consent = (o: Record<string, unknown>) => ({
    attributes: { type: 'ContactPointTypeConsent' },
    Name: 'Marketing (Email)',
    PartyId: ind,
    DataUsePurposeId: purpose,
    ContactPointType: 'Email',
    PrivacyConsentStatus: 'OptIn',
    CaptureDate: '2026-11-02T10:00:00.000Z',
    CaptureSource: 'Didomi',
    ...o,
  });
  const res = await c.call('POST', '/composite/sobjects', {
    allOrNone: false,
    records: [
      consent({}),
      consent({ PrivacyConsentStatus: 'Granted' }),
      consent({ ContactPointType: 'Fax' }),
      consent({ PartyId: undefined }),
      consent({ PartyId: lead }),
      consent({ CaptureDate: undefined }),
      consent({ DataUsePurposeId: ind }),
    ],
  });
  assert.deepEqual(codes(res.body), [
    'ok',
    'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST PrivacyConsentStatus',
    'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST ContactPointType',
    'REQUIRED_FIELD_MISSING PartyId',
    'FIELD_INTEGRITY_EXCEPTION PartyId',
    'REQUIRED_FIELD_MISSING CaptureDate',
    'FIELD_INTEGRITY_EXCEPTION DataUsePurposeId',
  ]);
  const link = await c.call('PATCH', '/composite/sobjects', {
    allOrNone: false,
    records: [
      { attributes: { type: 'Lead' }, id: lead, IndividualId: ind },
      { attributes: { type: 'Lead' }, id: lead, IndividualId: purpose },
    ],
  });
  assert.deepEqual(codes(link.body), ['ok', 'FIELD_INTEGRITY_EXCEPTION IndividualId']);
});

test("upsert by the package's external ids: Individual.Didomi_User_Id__c (case-insensitive) and ContactPointTypeConsent.Didomi_Consent_Key__c", async () => {
  const up = (body: unknown) => c.call('PATCH', '/composite/sobjects/Individual/Didomi_User_Id__c', body);
  const first = await up({ allOrNone: false, records: [{ attributes: { type: 'Individual' }, Didomi_User_Id__c: 'u@example.com', LastName: 'U' }] });
  const again = await up({ allOrNone: false, records: [{ attributes: { type: 'Individual' }, Didomi_User_Id__c: 'U@example.com', LastName: 'U2' }] });
  assert.equal(first.body[0].created, true);
  assert.deepEqual([again.body[0].created, again.body[0].id], [false, first.body[0].id], 'the same Individual');
  const q = await c.query("SELECT Id FROM Individual WHERE Didomi_User_Id__c = 'u@example.com'");
  assert.equal(q.body.totalSize, 1);
  const purpose = (await c.call('POST', '/sobjects/DataUsePurpose', { Name: 'Upsert' })).body.id;
  const cptc = (status: string) => ({
    attributes: { type: 'ContactPointTypeConsent' },
    Didomi_Consent_Key__c: 'k1',
    Name: 'Upsert (Email)',
    PartyId: first.body[0].id,
    DataUsePurposeId: purpose,
    ContactPointType: 'Email',
    PrivacyConsentStatus: status,
    CaptureDate: '2026-11-02T10:00:00.000Z',
    CaptureSource: 'Didomi',
  });
  const path = '/composite/sobjects/ContactPointTypeConsent/Didomi_Consent_Key__c';
  const c1 = await c.call('PATCH', path, { allOrNone: false, records: [cptc('OptIn')] });
  const c2 = await c.call('PATCH', path, { allOrNone: false, records: [cptc('OptOut')] });
  assert.deepEqual([c1.body[0].created, c2.body[0].created, c2.body[0].id], [true, false, c1.body[0].id]);
  const r = await c.query("SELECT Id, PrivacyConsentStatus FROM ContactPointTypeConsent WHERE Didomi_Consent_Key__c = 'k1'");
  assert.deepEqual([r.body.totalSize, r.body.records[0].PrivacyConsentStatus], [1, 'OptOut']);
});
