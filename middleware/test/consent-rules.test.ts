// Consent semantics a data-protection officer would sign (issue 12), one unit test per contract line.
// Sources: Didomi's "Consent event approvals" page
// (https://developers.didomi.io/api-and-platform/consents/events/consent-event-approvals) where it
// speaks; the privacy principle "absence of consent is refusal" (DESIGN.md "Safety") where it does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { merge, isDeleted } from '../src/sync/consent-state.ts';
import { factsOf } from '../src/didomi/facts.ts';
import { cleared, project } from '../src/sync/project.ts';
import { parseWebhook, toNewEvent } from '../src/didomi/schema.ts';
import { creationSkipReason, writableRecords } from '../src/sync/match-rules.ts';
import type { Mapping } from '../src/sync/config-types.ts';
import { mapping, stored, target as leadTarget } from './support/sync-config.ts';
import { eventCreated, eventUpdated, userUpdated, userDeleted, PURPOSE, PREFERENCE } from '../../test/support/didomi-events.ts';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const fold = (...bodies: unknown[]) => merge(null, bodies.map(stored).flatMap(factsOf));
const permutations = <T>(xs: T[]): T[][] =>
  xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

const target = (mappings: Mapping[]) => leadTarget(mappings, { deletionBehavior: 'Clear Consent Fields' });
const MAPPINGS = [
  mapping({ field: 'Consent__c' }),
  mapping({ field: 'HasOptedOutOfEmail', invert: true }),
  mapping({ field: 'Topics__c', kind: 'Preference', preferenceId: PREFERENCE, fieldType: 'multipicklist' }),
  mapping({ field: 'V1__c', kind: 'Preference Value', preferenceId: PREFERENCE, valueId: 'v1' }),
  mapping({ field: 'NoV1__c', kind: 'Preference Value', preferenceId: PREFERENCE, valueId: 'v1', invert: true }),
  mapping({ field: 'Country__c', kind: 'User Attribute', attributePath: 'country', fieldType: 'string' }),
];

test('deletion wins a tie: a user.deleted stamped with the time of the last change deletes, in every order', () => {
  // Many pairs, so a content-hash tie-break cannot pass by luck.
  for (let i = 0; i < 40; i++) {
    const who = `tie${i}@x.com`;
    const events = [eventCreated(who, at(5), { purposes: { [PURPOSE]: i % 2 === 0 } }), userDeleted(who, at(5))];
    for (const p of permutations(events)) assert.equal(isDeleted(fold(...p)), true, `${who}: deletion at the same time as the last event must win`);
  }
});

test('erasure forgets: after a deletion, a newer event starts from an empty state', () => {
  const s = fold(
    eventCreated('er@x.com', at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v1'] } }),
    userDeleted('er@x.com', at(2)),
    eventCreated('er@x.com', at(3), { purposes: { other: true } }),
  );
  assert.equal(isDeleted(s), false, 'the person came back');
  const v = project('er@x.com', s, target(MAPPINGS))!;
  assert.equal(v.Consent__c, false, 'the purpose granted before the deletion is forgotten: no consent');
  assert.equal(v.HasOptedOutOfEmail, true, 'the inverted opt-out field says opted out');
  assert.equal(v.Topics__c, null, 'the preference chosen before the deletion is forgotten');
  assert.equal(v.V1__c, false);
  assert.equal(v.NoV1__c, true);
  assert.doesNotMatch(String(v.Didomi_Consents__c), new RegExp(PREFERENCE), 'the audit snapshot forgets too');
});

test('clearing writes each field its no-consent value: checkbox false, inverted opt-out true, text and picklist empty', () => {
  const v = cleared(target(MAPPINGS));
  assert.deepEqual(
    { ...v },
    {
      Consent__c: false,
      HasOptedOutOfEmail: true,
      Topics__c: null,
      V1__c: false,
      NoV1__c: true,
      Country__c: null,
      Didomi_Consents__c: null,
      Didomi_Consent_Updated_At__c: null,
    },
  );
});

test('double opt-in: a pending grant grants nothing until Didomi confirms it; a pending refusal applies at once', () => {
  const grant = eventCreated(
    'doi@x.com',
    at(2),
    { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v1'] } },
    { id: 'ev-doi', status: 'pending_approval' },
  );
  const refusedBefore = eventCreated('doi@x.com', at(1), { purposes: { [PURPOSE]: false }, preferences: { [PREFERENCE]: [] } });
  const pending = project('doi@x.com', fold(refusedBefore, grant), target(MAPPINGS))!;
  assert.equal(pending.Consent__c, false, 'pending grant: still refused');
  assert.equal(pending.HasOptedOutOfEmail, true);
  assert.equal(pending.Topics__c, null);
  assert.equal(pending.V1__c, false);
  const alone = project('doi@x.com', fold(grant), target(MAPPINGS))!;
  assert.ok(alone.Consent__c !== true && alone.V1__c !== true && alone.HasOptedOutOfEmail !== false, 'a pending grant alone grants nothing');
  // Didomi confirms: event.updated, same id and created_at, status confirmed
  const confirmed = eventUpdated(
    'doi@x.com',
    at(2),
    { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v1'] } },
    { id: 'ev-doi', status: 'confirmed' },
  );
  for (const p of permutations([refusedBefore, grant, confirmed])) {
    const v = project('doi@x.com', fold(...p), target(MAPPINGS))!;
    assert.equal(v.Consent__c, true, 'confirmed: granted');
    assert.equal(v.HasOptedOutOfEmail, false);
    assert.equal(v.V1__c, true);
  }
  // a pending refusal needs no proof
  const given = eventCreated('doi@x.com', at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v1', 'v2'] } });
  const pendingRefusal = eventCreated(
    'doi@x.com',
    at(2),
    { purposes: { [PURPOSE]: false }, preferences: { [PREFERENCE]: ['v2'] } },
    { status: 'pending_approval' },
  );
  const r = project('doi@x.com', fold(given, pendingRefusal), target(MAPPINGS))!;
  assert.equal(r.Consent__c, false, 'pending refusal applied');
  assert.equal(r.HasOptedOutOfEmail, true);
  assert.equal(r.V1__c, false, 'the value the pending choice removed is withdrawn');
  assert.equal(r.Topics__c, 'v2', 'the value kept stays');
});

test("which version of an event wins: the event's own updated_at, then created_at; never a content hash", () => {
  // A correction keeps the event's created_at and carries a newer updated_at.
  for (let i = 0; i < 20; i++) {
    const who = `ver${i}@x.com`;
    const first = eventCreated(who, at(3), { purposes: { [PURPOSE]: i % 2 === 0 } }, { id: `ev${i}` });
    const corrected = eventUpdated(who, at(3), { purposes: { [PURPOSE]: i % 2 !== 0 } }, { id: `ev${i}`, updatedAt: at(4) });
    for (const p of permutations([first, corrected]))
      assert.equal(fold(...p).facts[`purpose:gdpr:${PURPOSE}`].v, i % 2 !== 0, `${who}: the corrected version wins`);
    // An update without updated_at still follows its creation (an update cannot precede what it updates).
    const sameTime = eventUpdated(who, at(3), { purposes: { [PURPOSE]: i % 2 !== 0 } }, { id: `ev${i}` });
    for (const p of permutations([first, sameTime]))
      assert.equal(fold(...p).facts[`purpose:gdpr:${PURPOSE}`].v, i % 2 !== 0, `${who}: event.updated beats event.created`);
    // A true tie between two different choices at the same instant: refusal wins (absence of consent is refusal).
    const a = eventCreated(who, at(7), { purposes: { x: true }, preferences: { [PREFERENCE]: ['v1', 'v2'] } }, { id: `a${i}` });
    const b = eventCreated(who, at(7), { purposes: { x: false }, preferences: { [PREFERENCE]: ['v2', 'v3'] } }, { id: `b${i}` });
    for (const p of permutations([a, b])) {
      const s = fold(...p);
      assert.equal(s.facts['purpose:gdpr:x'].v, false, `${who}: tie -> refusal`);
      assert.deepEqual(s.facts[`pref:gdpr:${PURPOSE}:${PREFERENCE}`].v, ['v2'], `${who}: tie -> only what both versions chose`);
    }
  }
  // A user.updated with a higher version beats one with the same updated_at.
  const v1 = userUpdated('uv@x.com', at(5), { purposes: { [PURPOSE]: true } }, 1);
  const v2 = userUpdated('uv@x.com', at(5), { purposes: { [PURPOSE]: false } }, 2);
  for (const p of permutations([v1, v2])) assert.equal(fold(...p).facts[`purpose:gdpr:${PURPOSE}`].v, false);
});

test('a converted Lead is a match that is never written: upsert mode creates nothing for its person', () => {
  const leads = [
    { Id: '00Q1', IsConverted: true },
    { Id: '00Q2', IsConverted: false },
  ];
  assert.deepEqual(
    writableRecords(target([]), leads).map((r) => r.Id),
    ['00Q2'],
  );
  assert.deepEqual(writableRecords(target([]), [leads[0]]), []);
  assert.equal(creationSkipReason('conv@x.com', [leads[0]]), 'matched', 'the converted Lead counts as the person');
  assert.equal(creationSkipReason('new@x.com', []), null);
});

test('upsert mode never creates a record for a Didomi user without organization_user_id', () => {
  const w = toNewEvent(parseWebhook(eventCreated('anon', at(1), { purposes: { [PURPOSE]: true } }, { organizationUserId: null })));
  assert.equal(w.userKey, 'didomi:didomi-anon');
  assert.equal(creationSkipReason(w.userKey, []), 'no_organization_user_id');
});

test('one person, two spellings: e-mail-shaped organization_user_ids compare case-insensitively', () => {
  const a = toNewEvent(parseWebhook(eventCreated('Ann.Lee@Example.COM', at(1), {})));
  const b = toNewEvent(parseWebhook(eventCreated('ann.lee@example.com', at(2), {})));
  assert.equal(a.userKey, b.userKey, 'one person, one merged state');
  assert.equal(a.userKey, 'ann.lee@example.com');
  // ids that are not e-mails (CRM ids, phone numbers) keep their case: Didomi documents no rule for them
  assert.equal(toNewEvent(parseWebhook(eventCreated('CRM-00Q5e', at(1), {}))).userKey, 'CRM-00Q5e');
});

test('a state saved before this rule set still counts its deletion (upgrade keeps erased data erased)', () => {
  const saved = {
    facts: {
      deleted: { v: true, at: at(5).toISOString(), tie: 'ab' },
      [`purpose:gdpr:${PURPOSE}`]: { v: true, at: at(5).toISOString(), tie: 'cd' },
    },
    updatedAt: at(5).toISOString(),
  } as unknown as Parameters<typeof merge>[0];
  const s = merge(saved, []);
  assert.equal(isDeleted(s), true, 'the old tie is now won by the deletion');
  assert.equal(s.facts[`purpose:gdpr:${PURPOSE}`], undefined, 'the erased grant is forgotten');
  const later = merge(saved, factsOf(stored(eventCreated('old@x.com', at(6), { purposes: { other: true } }))));
  assert.equal(isDeleted(later), false);
  assert.equal(project('old@x.com', later, target(MAPPINGS))!.Consent__c, false);
});

test('double opt-in: a user.updated at the same instant (which does not apply pending events) cannot cancel a pending refusal', () => {
  // Didomi applies a pending event to the user's status only once approved, so a user.updated stamped at
  // the same time still shows the old grant; only the event's own confirmed version may override it.
  const refusal = eventCreated('same@x.com', at(4), { purposes: { [PURPOSE]: false } }, { id: 'ev-p', status: 'pending_approval', country: 'DE' });
  const user = userUpdated('same@x.com', at(4), { purposes: { [PURPOSE]: true } }, 7);
  for (const p of permutations([refusal, user])) {
    const s = fold(...p);
    assert.equal(project('same@x.com', s, target(MAPPINGS))!.Consent__c, false, 'the pending refusal holds');
    assert.equal(s.facts['attr:country']?.v, 'FR', 'a pending event changes no attribute before approval');
  }
  const confirmedGrant = eventUpdated('same@x.com', at(4), { purposes: { [PURPOSE]: true } }, { id: 'ev-p', status: 'confirmed' });
  for (const p of permutations([refusal, user, confirmedGrant])) assert.equal(project('same@x.com', fold(...p), target(MAPPINGS))!.Consent__c, true);
});
