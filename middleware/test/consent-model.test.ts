// Planning for Salesforce's consent data model (sync/consent-model.ts), pure: state + mappings +
// what was written -> Individual / link / ContactPointTypeConsent operations (issue 16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { merge } from '../src/sync/consent-state.ts';
import { factsOf } from '../src/didomi/facts.ts';
import { buildConfig } from '../src/sync/config-loader.ts';
import { consentKey, planConsents, planIndividual, planLinks, type Written } from '../src/sync/consent-model.ts';
import { stored } from './support/sync-config.ts';
import type { ConsentModelMapping } from '../src/sync/config-types.ts';
import { eventCreated, eventUpdated, userDeleted, PURPOSE, PREFERENCE } from '../../test/support/didomi-events.ts';

const state = (...bodies: unknown[]) => merge(null, bodies.map(stored).flatMap(factsOf));
const at = (s: number) => new Date(Date.parse('2026-11-02T10:00:00Z') + s * 1000);
const U = 'p@example.com';
const EMAIL: ConsentModelMapping = {
  id: 'm1',
  purposeId: PURPOSE,
  preferenceId: null,
  valueId: null,
  dataUsePurpose: 'Marketing',
  contactPointType: 'Email',
  regulation: 'gdpr',
};
const WEEKLY: ConsentModelMapping = { ...EMAIL, id: 'm2', preferenceId: PREFERENCE, valueId: 'weekly', dataUsePurpose: 'Weekly' };
const purposes = new Map([
  ['marketing', '0ZW000000000001AAA'],
  ['weekly', '0ZW000000000002AAA'],
]);
const LEAD = '00Q000000000001AAA';
const IND = '0PK000000000001AAA';
const written = (): Written => ({ [LEAD]: { Didomi_User_Id__c: U } });

test('plan: an Individual only for a person with a record, and only once (the upsert key is the Didomi user id)', () => {
  const s = state(eventCreated(U, at(1), { purposes: { [PURPOSE]: true } }));
  assert.deepEqual(planIndividual(U, s, [EMAIL], written()), { fields: { Didomi_User_Id__c: U, LastName: U } });
  assert.equal(planIndividual(U, s, [EMAIL], {}), null, 'no record: no Individual');
  assert.equal(planIndividual(U, s, [], written()), null, 'no consent model mapping: nothing');
  assert.equal(planIndividual(U, s, [EMAIL], { ...written(), [IND]: { Didomi_User_Id__c: U, LastName: U } }), null, 'already there');
  assert.deepEqual(planLinks(s, written(), IND), [{ id: LEAD, object: 'Lead', fields: { IndividualId: IND } }]);
  assert.deepEqual(planLinks(s, { [LEAD]: { IndividualId: IND } }, IND), [], 'already linked: nothing written');
});

test("plan: the org's own Individual is adopted, never replaced; a record pointing at another Individual keeps it", () => {
  const s = state(eventCreated(U, at(1), { purposes: { [PURPOSE]: true } }));
  const OWN = '0PK00000000000ZAAA';
  const CONTACT = '003000000000001AAA';
  const w: Written = { ...written(), [CONTACT]: { Didomi_User_Id__c: U } };
  const current = new Map<string, string | null>([
    [LEAD, null],
    [CONTACT, OWN],
  ]);
  assert.deepEqual(planIndividual(U, s, [EMAIL], w, current), { id: OWN, fields: { Didomi_User_Id__c: U } }, 'adopt: the Didomi id is set on it');
  assert.deepEqual(planLinks(s, w, OWN, current), [{ id: LEAD, object: 'Lead', fields: { IndividualId: OWN } }], 'only the record pointing nowhere');
  assert.deepEqual(planLinks(s, w, IND, current), [{ id: LEAD, object: 'Lead', fields: { IndividualId: IND } }], 'the Contact keeps its Individual');
});

test('plan: an Individual owned by another Didomi user is never adopted, and two users of one batch never both take a free one', () => {
  const V = 'q@example.com';
  const OWN = '0PK00000000000ZAAA';
  const CONTACT = '003000000000001AAA';
  const C2 = '003000000000002AAA';
  const s = state(eventCreated(U, at(1), { purposes: { [PURPOSE]: true } }));
  const t = state(eventCreated(V, at(1), { purposes: { [PURPOSE]: true } }));
  const current = new Map<string, string | null>([
    [CONTACT, OWN],
    [C2, OWN],
  ]);
  const owned = new Map([[OWN, 'someone@example.com']]);
  assert.deepEqual(planIndividual(U, s, [EMAIL], { [CONTACT]: {} }, current, owned), { fields: { Didomi_User_Id__c: U, LastName: U } }, 'its own instead');
  const free = new Map<string, string | null>([[OWN, null]]);
  assert.deepEqual(planIndividual(U, s, [EMAIL], { [CONTACT]: {} }, current, free), { id: OWN, fields: { Didomi_User_Id__c: U } }, 'the first adopts');
  assert.deepEqual(planIndividual(V, t, [EMAIL], { [C2]: {} }, current, free), { fields: { Didomi_User_Id__c: V, LastName: V } }, 'the second does not');
});

test('plan: a purpose and a preference value become OptIn / OptOut with CaptureDate the Didomi time, CaptureSource Didomi', () => {
  const s = state(eventCreated(U, at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['other'] } }));
  const ops = planConsents(U, s, [EMAIL, WEEKLY], written(), IND, purposes);
  assert.equal(ops.length, 2);
  const [email, weekly] = ops;
  assert.equal(email.id, undefined, 'new: upserted by key');
  assert.deepEqual(email.fields, {
    Name: 'Marketing (Email)',
    Didomi_Consent_Key__c: consentKey(U, 'Marketing', 'Email'),
    PartyId: IND,
    DataUsePurposeId: '0ZW000000000001AAA',
    ContactPointType: 'Email',
    PrivacyConsentStatus: 'OptIn',
    CaptureDate: at(1).toISOString(),
    CaptureSource: 'Didomi',
    CaptureContactPointType: 'Web',
    EffectiveFrom: at(1).toISOString(),
    DoubleConsentCaptureDate: null,
  });
  assert.equal(weekly.fields.PrivacyConsentStatus, 'OptOut', 'the value is not selected');
});

test('plan: only changed fields of a known consent are written; nothing when nothing changed', () => {
  const s1 = state(eventCreated(U, at(1), { purposes: { [PURPOSE]: true } }));
  const [op] = planConsents(U, s1, [EMAIL], written(), IND, purposes);
  const CPTC = '0ZY000000000001AAA';
  const w: Written = { ...written(), [CPTC]: { ...op.fields } };
  assert.deepEqual(planConsents(U, s1, [EMAIL], w, IND, purposes), [], 'unchanged');
  const s2 = merge(s1, [stored(eventCreated(U, at(4), { purposes: { [PURPOSE]: false } }))].flatMap(factsOf));
  assert.deepEqual(planConsents(U, s2, [EMAIL], w, IND, purposes), [
    {
      id: CPTC,
      dataUsePurpose: 'Marketing',
      fields: { PrivacyConsentStatus: 'OptOut', CaptureDate: at(4).toISOString(), EffectiveFrom: at(4).toISOString() },
    },
  ]);
});

test('plan: no choice writes no consent; a purpose without a DataUsePurpose id yet is left for the retry', () => {
  const s = state(eventCreated(U, at(1), { purposes: { other: true } }));
  assert.deepEqual(planConsents(U, s, [EMAIL], written(), IND, purposes), []);
  const t = state(eventCreated(U, at(1), { purposes: { [PURPOSE]: true } }));
  assert.deepEqual(planConsents(U, t, [EMAIL], written(), IND, new Map()), []);
});

test('plan: a confirmed double opt-in sets DoubleConsentCaptureDate (confirmation) and CaptureDate (choice); a pending grant is no OptIn', () => {
  const pending = state(eventCreated(U, at(2), { purposes: { [PURPOSE]: true } }, { id: 'ev', status: 'pending_approval' }));
  assert.deepEqual(planConsents(U, pending, [EMAIL], written(), IND, purposes), [], 'pending grant: nothing granted');
  const confirmed = merge(
    pending,
    [stored(eventUpdated(U, at(2), { purposes: { [PURPOSE]: true } }, { id: 'ev', status: 'confirmed', updatedAt: at(9) }))].flatMap(factsOf),
  );
  const [op] = planConsents(U, confirmed, [EMAIL], written(), IND, purposes);
  assert.equal(op.fields.PrivacyConsentStatus, 'OptIn');
  assert.equal(op.fields.CaptureDate, at(2).toISOString());
  assert.equal(op.fields.DoubleConsentCaptureDate, at(9).toISOString());
});

test('plan (property): for an erased person no operation ever says OptIn, and no new consent or Individual is created', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ t: fc.integer({ min: 0, max: 5 }), v: fc.boolean(), pref: fc.boolean() }), { maxLength: 6 }),
      fc.integer({ min: 5, max: 9 }),
      (choices, del) => {
        const bodies: unknown[] = choices.map((c) =>
          eventCreated(U, at(c.t), { purposes: { [PURPOSE]: c.v }, preferences: c.pref ? { [PREFERENCE]: ['weekly'] } : {} }),
        );
        bodies.push(userDeleted(U, at(del)));
        const s = state(...bodies);
        const CPTC = '0ZY000000000009AAA';
        const w: Written = {
          ...written(),
          [IND]: { Didomi_User_Id__c: U },
          [CPTC]: { Didomi_Consent_Key__c: consentKey(U, 'Marketing', 'Email'), PrivacyConsentStatus: 'OptIn' },
        };
        const ops = planConsents(U, s, [EMAIL, WEEKLY], w, IND, purposes);
        assert.equal(planIndividual(U, s, [EMAIL], written()), null);
        assert.deepEqual(planLinks(s, written(), IND), []);
        assert.ok(ops.every((o) => o.id === CPTC && o.fields.PrivacyConsentStatus === 'OptOut'));
        assert.equal(ops.length, 1, 'the known consent becomes OptOut');
      },
    ),
  );
});

/** Describes of the consent data model as an org with Data Protection and Privacy and the package's grants answers them. */
const editable = (...names: string[]) => ({
  createable: true,
  updateable: true,
  fields: names.map((name) => ({ name, type: 'string', createable: true, updateable: true })),
});
const MODEL_DESCRIBES: [string, any][] = [
  ['Individual', editable('Didomi_User_Id__c', 'LastName')],
  ['DataUsePurpose', editable('Name', 'Didomi_Purpose_Key__c')],
  [
    'ContactPointTypeConsent',
    editable(
      ...'Didomi_Consent_Key__c Name PartyId DataUsePurposeId ContactPointType PrivacyConsentStatus CaptureDate CaptureSource CaptureContactPointType EffectiveFrom DoubleConsentCaptureDate'.split(
        ' ',
      ),
    ),
  ],
];

test('config: a consent data model the integration user cannot write (object missing, no edit, field hidden) makes each Consent Model mapping invalid, naming why', () => {
  const targets = [{ Id: 't1', Object__c: 'Lead', Active__c: true, Match_Field__c: 'Email', Deletion_Behavior__c: 'Ignore' }];
  const rows = [
    {
      Id: 'a',
      Target__c: 't1',
      Kind__c: 'Consent Model',
      Purpose_Id__c: PURPOSE,
      Data_Use_Purpose__c: 'Marketing',
      Contact_Point_Type__c: 'Email',
      Active__c: true,
    },
  ];
  const lead: [string, any] = ['Lead', { fields: [{ name: 'Email', type: 'email', updateable: true, createable: true }] }];
  const cases: [string, [string, any][], RegExp][] = [
    ['object missing', MODEL_DESCRIBES.filter(([o]) => o !== 'Individual'), /Individual is not available/],
    ['no edit', MODEL_DESCRIBES.map(([o, d]) => [o, o === 'DataUsePurpose' ? { ...d, updateable: false } : d]), /cannot create and edit DataUsePurpose/],
    [
      'field hidden',
      MODEL_DESCRIBES.map(([o, d]) => [o, o === 'ContactPointTypeConsent' ? { ...d, fields: d.fields.filter((f: any) => f.name !== 'CaptureDate') } : d]),
      /CaptureDate/,
    ],
  ];
  for (const [name, describes, why] of cases) {
    const cfg = buildConfig(targets, rows, new Map([lead, ...describes]));
    assert.deepEqual(cfg.consentModel, [], `${name}: no Consent Model mapping used`);
    assert.equal(cfg.problems.length, 1, `${name}: one problem`);
    assert.match(cfg.problems[0].message, why, name);
  }
  assert.deepEqual(buildConfig(targets, rows, new Map([lead, ...MODEL_DESCRIBES])).consentModel?.length, 1, 'usable with everything granted');
});

test('config: Consent Model mappings are read apart from field mappings, checked, and deduplicated per purpose and channel', () => {
  const targets = [{ Id: 't1', Object__c: 'Lead', Active__c: true, Match_Field__c: 'Email', Deletion_Behavior__c: 'Ignore' }];
  const row = (id: string, extra: Record<string, unknown>) => ({
    Id: id,
    Target__c: 't1',
    Kind__c: 'Consent Model',
    Field_Api_Name__c: 'IndividualId',
    Purpose_Id__c: PURPOSE,
    Data_Use_Purpose__c: 'Marketing',
    Contact_Point_Type__c: 'Email',
    Active__c: true,
    ...extra,
  });
  const cfg = buildConfig(
    targets,
    [row('a', {}), row('b', {}), row('c', { Contact_Point_Type__c: 'Fax' }), row('d', { Data_Use_Purpose__c: '' }), row('e', { Value_Id__c: 'x' })],
    new Map<string, any>([['Lead', { fields: [{ name: 'Email', type: 'email', updateable: true, createable: true }] }], ...MODEL_DESCRIBES]),
  );
  assert.deepEqual(
    cfg.consentModel?.map((m) => m.id),
    ['a'],
  );
  assert.equal(cfg.targets[0].mappings.length, 0, 'no field mapping');
  assert.deepEqual(
    cfg.problems.map((p) => p.mappingId),
    ['b', 'c', 'd', 'e'],
  );
});
