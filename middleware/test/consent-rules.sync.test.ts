// Consent semantics a data-protection officer would sign (issue 12), end to end: webhooks in, over
// HTTP to the org emulator, fields out. One test per README contract line ("Safety").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stack } from '../../test/support/stack.ts';
import { byEmail, stacksClosedAfterFile } from './support/stacks.ts';
import { metricSum } from '../../test/support/wait-for.ts';
import { HeldClaimsStore } from './support/held-claims.ts';
import { eventCreated, eventUpdated, userDeleted, PURPOSE, PREFERENCE } from '../../test/support/didomi-events.ts';
import { PHONE_PURPOSE, VALUE_WEEKLY, VALUE_OFFERS } from '../../test/support/org-fixture.ts';

const stack = stacksClosedAfterFile();
const t0 = Date.parse('2026-11-02T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const writes = async (s: Stack, since: number) => ((await (await fetch(`${s.emu.url}/__emulator/writes?since=${since}`)).json()) as any).writes as any[];
const GIVEN_ALL = { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY, VALUE_OFFERS] } };
// Several people per case, each order, in one batch and in two (claims held, then a drain between posts):
// an outcome a hash, the arrival order or the batching decides cannot pass by luck.
const PEOPLE = 8;
const person = (c: string, i: number) => `${c}${i}@example.com`;
const seedLeads = (s: Stack, c: string) =>
  s.emu.seed({ Lead: Array.from({ length: PEOPLE }, (_, i) => ({ LastName: `${c}${i}`, Company: 'Acme', Email: person(c, i) })) });

test('a deletion stamped with the time of the last change wins the tie, in either order, in one batch or two, and clearing writes no-consent values (HasOptedOutOfEmail true)', async () => {
  let store!: HeldClaimsStore;
  const s = await stack({ makeStore: (env) => (store = new HeldClaimsStore(env.SQLITE_PATH)) }); // Lead target: Clear Consent Fields
  seedLeads(s, 'tie');
  for (let i = 0; i < PEOPLE; i++) await s.post(eventCreated(person('tie', i), at(1), GIVEN_ALL));
  await s.waitForDrain();
  // Didomi stamps user.deleted with the user's last update: same time as the last event. Each order, both in
  // one batch (held until both are stored) and in two (the second posted after a drain), two people each.
  const pair = (i: number) => {
    const p = [eventCreated(person('tie', i), at(2), { purposes: { [PURPOSE]: true } }), userDeleted(person('tie', i), at(2))];
    return i % 2 ? p.reverse() : p;
  };
  const together = (i: number) => i < PEOPLE / 2;
  const before = await s.metrics();
  store.held = true;
  for (let i = 0; i < PEOPLE; i++) for (const e of together(i) ? pair(i) : pair(i).slice(0, 1)) await s.post(e);
  store.held = false;
  await s.waitForDrain();
  const m = await s.metrics();
  const delta = (name: string) => metricSum(m, name) - metricSum(before, name);
  assert.deepEqual([delta('didomi_sync_batch_users_count'), delta('didomi_sync_batch_users_sum')], [1, PEOPLE], 'one batch of everyone');
  for (let i = 0; i < PEOPLE; i++) if (!together(i)) await s.post(pair(i)[1]);
  await s.waitForDrain();
  for (let i = 0; i < PEOPLE; i++) {
    const [lead] = await byEmail(s, 'Lead', person('tie', i));
    const who = `${person('tie', i)} (${together(i) ? 'one batch' : 'two batches'}, ${i % 2 ? 'deletion first' : 'event first'})`;
    assert.equal(lead.HasOptedOutOfEmail, true, `${who}: erased person is not emailable (inverted opt-out true)`);
    assert.equal(lead.DoNotCall, true, 'inverted opt-out true');
    assert.equal(lead.Weekly_Digest__c, false, 'preference value checkbox false');
    assert.equal(lead.Newsletter_Topics__c, null, 'picklist empty');
    assert.equal(lead.Marketing_Consent_CPRA__c, false, 'purpose checkbox false');
    assert.equal(lead.Didomi_Consents__c, null, 'snapshot cleared');
  }
});

test('erasure forgets: an event after user.deleted starts from an empty state, nothing from before comes back', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Back', Company: 'Acme', Email: 'back@example.com' }] });
  await s.post(eventCreated('back@example.com', at(1), GIVEN_ALL));
  await s.post(userDeleted('back@example.com', at(2)));
  await s.waitForDrain();
  await s.post(eventCreated('back@example.com', at(3), { purposes: { [PHONE_PURPOSE]: true } }));
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'back@example.com');
  assert.equal(lead.DoNotCall, false, 'the new choice applies');
  assert.equal(lead.HasOptedOutOfEmail, true, 'the e-mail consent given before the deletion is gone');
  assert.equal(lead.Newsletter_Topics__c, null, 'the topics chosen before the deletion are gone');
  assert.equal(lead.Weekly_Digest__c, false);
  assert.doesNotMatch(String(lead.Didomi_Consents__c), new RegExp(PREFERENCE), 'the audit snapshot forgets too');
});

test('double opt-in: a pending grant writes no consent until Didomi confirms it; a pending refusal applies at once', async () => {
  const s = await stack();
  s.emu.seed({
    Lead: [
      { LastName: 'Doi', Company: 'Acme', Email: 'doi@example.com' },
      { LastName: 'Out', Company: 'Acme', Email: 'out@example.com' },
    ],
  });
  const choice = { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY] } };
  await s.post(eventCreated('doi@example.com', at(1), { purposes: { [PURPOSE]: false }, preferences: { [PREFERENCE]: [] } }));
  await s.post(eventCreated('doi@example.com', at(2), choice, { id: 'ev-doi', status: 'pending_approval' }));
  await s.post(eventCreated('out@example.com', at(1), GIVEN_ALL));
  await s.post(
    eventCreated('out@example.com', at(2), { purposes: { [PURPOSE]: false }, preferences: { [PREFERENCE]: [VALUE_OFFERS] } }, { status: 'pending_approval' }),
  );
  await s.waitForDrain();
  let [doi] = await byEmail(s, 'Lead', 'doi@example.com');
  assert.equal(doi.HasOptedOutOfEmail, true, 'pending: still opted out');
  assert.equal(doi.Weekly_Digest__c, false, 'pending: no value granted');
  const [out] = await byEmail(s, 'Lead', 'out@example.com');
  assert.equal(out.HasOptedOutOfEmail, true, 'a pending refusal needs no proof');
  assert.equal(out.Weekly_Digest__c, false, 'the value the pending choice dropped is withdrawn');
  assert.equal(out.Newsletter_Topics__c, 'Offers', 'the value it kept stays');
  assert.equal(out.DoNotCall, false, 'a purpose the pending event did not mention is untouched');
  // the person clicks the confirmation link: Didomi sends event.updated with status confirmed
  await s.post(eventUpdated('doi@example.com', at(2), choice, { id: 'ev-doi', status: 'confirmed', updatedAt: at(9) }));
  await s.waitForDrain();
  [doi] = await byEmail(s, 'Lead', 'doi@example.com');
  assert.equal(doi.HasOptedOutOfEmail, false, 'confirmed: granted');
  assert.equal(doi.Weekly_Digest__c, true);
});

test("the newest version of an event wins by the event's own updated_at then created_at, whatever the arrival order, in one batch or two", async () => {
  // claims are held while the first posts are stored, so they land in one batch whatever the machine's speed;
  // the second half of the "two batches" people is posted after a drain
  let store!: HeldClaimsStore;
  const s = await stack({ makeStore: (env) => (store = new HeldClaimsStore(env.SQLITE_PATH)) });
  store.held = true;
  const cases = [
    {
      name: 'corrected',
      optedOut: true, // the correction (purpose refused) wins
      versions: (email: string, i: number) => {
        const id = `ev-corrected-${i}`;
        // a correction that keeps created_at and carries no updated_at: it still follows what it corrects
        return [
          eventCreated(email, at(3), { purposes: { [PURPOSE]: true } }, { id }),
          eventUpdated(email, at(3), { purposes: { [PURPOSE]: false } }, { id, old: { purposes: { [PURPOSE]: true } } }),
        ];
      },
    },
    {
      name: 'late',
      optedOut: false, // a later correction (updated_at) of an older event beats a newer event created in between
      versions: (email: string, i: number) => [
        eventCreated(email, at(5), { purposes: { [PURPOSE]: false } }),
        eventUpdated(email, at(4), { purposes: { [PURPOSE]: true } }, { id: `ev-late-${i}`, updatedAt: at(6) }),
      ],
    },
  ];
  // every case in both orders, both in one batch and in two: two people each
  const people = cases.flatMap((c) =>
    Array.from({ length: PEOPLE }, (_, i) => ({
      c,
      email: person(c.name, i),
      reversed: i % 2 === 1,
      together: i < PEOPLE / 2,
      versions: c.versions(person(c.name, i), i),
    })),
  );
  s.emu.seed({ Lead: people.map((p) => ({ LastName: p.email, Company: 'Acme', Email: p.email })) });
  const ordered = (p: (typeof people)[number]) => (p.reversed ? [...p.versions].reverse() : p.versions);
  for (const p of people) for (const v of p.together ? ordered(p) : ordered(p).slice(0, 1)) assert.equal((await s.post(v)).status, 202);
  store.held = false;
  await s.waitForDrain();
  const m = await s.metrics();
  assert.deepEqual([metricSum(m, 'didomi_sync_batch_users_count'), metricSum(m, 'didomi_sync_batch_users_sum')], [1, people.length], 'one batch of everyone');
  for (const p of people.filter((x) => !x.together)) assert.equal((await s.post(ordered(p)[1])).status, 202);
  await s.waitForDrain();
  for (const p of people) {
    const how = `${p.together ? 'one batch' : 'two batches'}, ${p.reversed ? 'newest first' : 'oldest first'}`;
    assert.equal((await byEmail(s, 'Lead', p.email))[0].HasOptedOutOfEmail, p.c.optedOut, `${p.email} (${p.c.name}, ${how})`);
  }
});

test('upsert mode: a person whose Lead was converted gets no second Lead; the converted Lead is untouched and the Contact updated', async () => {
  const s = await stack(); // Lead target in upsert mode
  s.emu.seed({
    Lead: [{ LastName: 'Conv', Company: 'Acme', Email: 'conv@example.com', IsConverted: true }],
    Contact: [{ LastName: 'Conv', Email: 'conv@example.com' }],
  });
  await s.post(eventCreated('conv@example.com', at(1), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  await s.post(userDeleted('conv@example.com', at(2)));
  await s.waitForDrain();
  await s.post(eventCreated('conv@example.com', at(3), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const leads = await byEmail(s, 'Lead', 'conv@example.com');
  assert.equal(leads.length, 1, 'no duplicate Lead');
  assert.equal(leads[0].IsConverted, true);
  assert.equal(leads[0].Didomi_User_Id__c ?? null, null, 'the converted Lead is never written');
  assert.equal((await byEmail(s, 'Contact', 'conv@example.com'))[0].HasOptedOutOfEmail, true, 'its Contact is the target');
});

test('upsert mode never creates a record for a Didomi user without organization_user_id; /metrics counts them as skipped', async () => {
  const s = await stack();
  await s.post(eventCreated('anon1', at(1), { purposes: { [PURPOSE]: true } }, { organizationUserId: null }));
  await s.post(eventCreated('anon2', at(1), { purposes: { [PURPOSE]: false } }, { organizationUserId: null }));
  await s.post(eventCreated('known@example.com', at(1), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  const leads = await s.records('Lead');
  assert.deepEqual(
    leads.map((l) => l.Didomi_User_Id__c),
    ['known@example.com'],
    'only the identified person got a Lead',
  );
  assert.match(await s.metrics(), /^didomi_sync_users_skipped_total\{reason="no_organization_user_id",object="Lead"\} 2$/m);
});

test('one person, two spellings: e-mail ids differing by case merge into one state and Didomi_User_Id__c never flips', async () => {
  const s = await stack();
  s.emu.seed({ Lead: [{ LastName: 'Case', Company: 'Acme', Email: 'ann.case@example.com' }] });
  const since = Date.now();
  await s.post(eventCreated('Ann.Case@Example.com', at(1), { purposes: { [PURPOSE]: true } }));
  await s.waitForDrain();
  await s.post(eventCreated('ann.case@example.com', at(3), { purposes: { [PURPOSE]: false } }));
  await s.waitForDrain();
  await s.post(eventCreated('ANN.CASE@EXAMPLE.COM', at(2), { purposes: { [PURPOSE]: true } })); // older, arrives last
  await s.waitForDrain();
  const [lead] = await byEmail(s, 'Lead', 'ann.case@example.com');
  assert.equal(lead.HasOptedOutOfEmail, true, 'the newest choice across spellings wins, not the last to arrive');
  const ids = new Set((await writes(s, since)).filter((w) => w.sobject === 'Lead' && 'Didomi_User_Id__c' in w.fields).map((w) => w.fields.Didomi_User_Id__c));
  assert.deepEqual([...ids], ['ann.case@example.com'], 'one spelling written, once');
});
