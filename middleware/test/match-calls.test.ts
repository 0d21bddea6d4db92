// API calls per batch (issue 17, part 2) and the match rules they must keep, over HTTP to the org
// emulator: a user already linked (the written cache shows its one record carrying its
// Didomi_User_Id__c) is looked up by that id only; a new user by id or Email. Whatever changed in the
// org since the cache was filled (record deleted or merged, its id changed) falls back to matching:
// the event is never lost and never written to a record that is no longer the person's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../test/support/stack.ts';
import { metricSum, waitFor } from '../../test/support/wait-for.ts';
import { eventCreated, userDeleted, PURPOSE } from '../../test/support/didomi-events.ts';
import { CUSTOMER_PERMISSION_SETS, PHONE_PURPOSE, type SeedOptions } from '../../test/support/org-fixture.ts';
import type { EmulatorOptions } from '@didomi-sync/emulator';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { ClaimOptions } from '../src/store/types.ts';

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) await s.close();
});

/** A real SQLite store whose claims can be held, so that every event posted meanwhile lands in one batch. */
class HeldStore extends SqliteStore {
  held = false;
  override async claim(o: ClaimOptions) {
    return this.held ? [] : super.claim(o);
  }
}

const t0 = Date.parse('2026-11-01T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const leadWrites = async (s: Stack) =>
  ((await (await fetch(`${s.emu.url}/__emulator/writes?since=0`)).json()) as any).writes.filter((w: any) => w.sobject === 'Lead');
/** The Lead writes after the first `since` of the log. */
const writesSince = async (s: Stack, since: number) => (await leadWrites(s)).slice(since);

async function heldStack(seed: SeedOptions = {}, emulator: EmulatorOptions = {}) {
  let store: HeldStore | undefined;
  // housekeeping only at start, so every API call counted is the sync's own
  const s = await startStack({
    seed: { contact: false, ...seed },
    env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000' },
    makeStore: (e) => (store = new HeldStore(e.SQLITE_PATH)),
    emulator,
  });
  stacks.push(s);
  return { s, store: store! };
}

/** Posts every event while claims are held, then lets one worker claim them all at once; returns the API calls the batch took. */
async function oneBatch(s: Stack, store: HeldStore, events: unknown[], batches = 1) {
  store.held = true;
  const token = await s.token();
  const posted = [];
  for (let i = 0; i < events.length; i += 64) posted.push(...(await Promise.all(events.slice(i, i + 64).map((e) => s.post(e, token)))));
  assert.ok(
    posted.every((r) => r.status === 202),
    'every event acknowledged',
  );
  const batchesBefore = metricSum(await s.metrics(), 'didomi_sync_batch_users_count');
  const before = s.emu.stats().apiCalls.total;
  store.held = false;
  s.service!.engine.notify();
  await s.waitForDrain(120_000); // a deadline for a stuck test only: the machine is shared
  const m = await s.metrics();
  assert.equal(metricSum(m, 'didomi_sync_batch_users_count') - batchesBefore, batches, 'batches');
  return s.emu.stats().apiCalls.total - before;
}

/** Deletes the record in the org just before the next update or deletion of it reaches it (a merge racing the sync). */
function deleteBeforeNextWrite(s: Stack, id: string): () => boolean {
  const org = s.emu.org;
  let armed = true;
  const hit = (rawId: string) => {
    if (!armed || !rawId.startsWith(id.slice(0, 15))) return;
    armed = false;
    org.delete('Lead', id); // so this write fails; the failed record's transaction undoes it...
    queueMicrotask(() => org.get('Lead', id) && org.delete('Lead', id)); // ...so it is deleted for good right after
  };
  const update = org.update.bind(org);
  const del = org.delete.bind(org);
  org.update = (user, sobject, rawId, input, opts) => (hit(rawId), update(user, sobject, rawId, input, opts));
  org.delete = (sobject, rawId, user) => (hit(rawId), del(sobject, rawId, user));
  return () => !armed;
}

test('800 linked users and 150 new ones in one batch: one match composite and one write composite', async () => {
  const { s, store } = await heldStack();
  const known = Array.from({ length: 800 }, (_, i) => `known${i}@example.com`);
  const fresh = Array.from({ length: 150 }, (_, i) => `fresh${i}@example.com`);
  s.emu.seed({ Lead: [...known, ...fresh].map((Email, i) => ({ LastName: `L${i}`, Company: 'Acme', Email })) });
  // round 1 links the known users: their Leads get Didomi_User_Id__c, the written cache remembers it
  await oneBatch(
    s,
    store,
    known.map((k) => eventCreated(k, at(1), { purposes: { [PURPOSE]: true } })),
  );
  const calls = await oneBatch(s, store, [
    ...known.map((k) => eventCreated(k, at(2), { purposes: { [PURPOSE]: false } })),
    ...fresh.map((k) => eventCreated(k, at(2), { purposes: { [PURPOSE]: false } })),
  ]);
  const leads = await s.records('Lead');
  assert.equal(leads.filter((l) => l.HasOptedOutOfEmail === true).length, 950, 'every user written');
  assert.equal(leads.length, 950, 'nothing created');
  // known users by Didomi_User_Id__c only, new users by id or Email: 800x1 + 150x2 literals fit the 5
  // queries of one composite; 950 updates are 5 collections of at most 200: one composite
  assert.equal(calls, 2, `API calls for 950 users: ${calls}`);
});

test('a linked user whose record was deleted (merged away) in the org is matched again by Email and written to the survivor', async () => {
  const { s, store } = await heldStack();
  const [gone] = s.emu.seed({ Lead: [{ LastName: 'Gone', Company: 'Acme', Email: 'merge@example.com' }] }).Lead;
  await oneBatch(s, store, [eventCreated('merge@example.com', at(1), { purposes: { [PURPOSE]: true } })]);
  assert.equal((await s.records('Lead')).find((l) => l.Id === gone).Didomi_User_Id__c, 'merge@example.com');
  // a merge: the linked Lead is deleted, the surviving one carries the same Email and no Didomi id
  s.emu.org.delete('Lead', gone);
  const [survivor] = s.emu.seed({ Lead: [{ LastName: 'Survivor', Company: 'Acme', Email: 'Merge@Example.com' }] }).Lead;
  await oneBatch(s, store, [eventCreated('merge@example.com', at(2), { purposes: { [PURPOSE]: false } })]);
  const leads = await s.records('Lead');
  assert.equal(leads.length, 1, 'no record created (upsert mode): the survivor matched by Email');
  assert.equal(leads[0].Id, survivor);
  assert.equal(leads[0].HasOptedOutOfEmail, true, 'the withdrawal landed on the survivor');
  assert.equal(leads[0].Didomi_User_Id__c, 'merge@example.com', 'and linked it');
});

test("a linked user whose record now carries another user's Didomi_User_Id__c: never written to it (AMBIGUOUS_MATCH), nothing created", async () => {
  const { s, store } = await heldStack();
  const [lead] = s.emu.seed({ Lead: [{ LastName: 'Moved', Company: 'Acme', Email: 'moved@example.com' }] }).Lead;
  await oneBatch(s, store, [eventCreated('moved@example.com', at(1), { purposes: { [PURPOSE]: true } })]);
  // an admin gives the record to another Didomi user
  s.emu.org.update(null, 'Lead', lead, { Didomi_User_Id__c: 'crm-7' }, { trusted: true });
  const since = (await leadWrites(s)).length;
  await oneBatch(s, store, [eventCreated('moved@example.com', at(2), { purposes: { [PURPOSE]: false } })]);
  assert.deepEqual(await writesSince(s, since), [], 'the record held by crm-7 is not written, and no record is created (upsert mode)');
  assert.equal((await s.records('Lead'))[0].HasOptedOutOfEmail, false, "crm-7's record keeps its value");
  // matched again by Email, the record carries crm-7: an ambiguous match, dead-lettered
  let errors: any[] = [];
  await waitFor('the ambiguous match dead-lettered', async () => (errors = await s.records('Didomi_Sync_Error__c')).length > 0);
  assert.deepEqual(
    errors.map((e) => [e.Organization_User_Id__c, e.Error_Code__c, e.Record_Id__c]),
    [['moved@example.com', 'AMBIGUOUS_MATCH', lead]],
  );
});

test('a linked user whose Didomi_User_Id__c an admin moved to another record: that record is written, in full, and the first one no more', async () => {
  const { s, store } = await heldStack();
  const [first] = s.emu.seed({ Lead: [{ LastName: 'First', Company: 'Acme', Email: 'mover@example.com' }] }).Lead;
  await oneBatch(s, store, [eventCreated('mover@example.com', at(1), { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: false } })]);
  s.emu.org.update(null, 'Lead', first, { Didomi_User_Id__c: null, Email: 'old-address@example.com' }, { trusted: true });
  const [second] = s.emu.seed({
    Lead: [{ LastName: 'Second', Company: 'Acme', Email: 'new-address@example.com', Didomi_User_Id__c: 'mover@example.com' }],
  }).Lead;
  const since = (await leadWrites(s)).length;
  await oneBatch(s, store, [eventCreated('mover@example.com', at(2), { purposes: { [PURPOSE]: false } })]);
  const writes = await writesSince(s, since);
  assert.deepEqual(
    writes.map((w: any) => w.id),
    [second],
    'only the record that carries the id',
  );
  const lead = (await s.records('Lead')).find((l) => l.Id === second);
  assert.equal(lead.HasOptedOutOfEmail, true, 'the withdrawal');
  assert.equal(lead.DoNotCall, true, 'and the fields this event did not change, never written to this record before (phone refused at 1)');
});

test('a linked user whose record lost its Didomi_User_Id__c is matched by Email again, and the record relinked', async () => {
  const { s, store } = await heldStack();
  const [lead] = s.emu.seed({ Lead: [{ LastName: 'Clr', Company: 'Acme', Email: 'cleared@example.com' }] }).Lead;
  await oneBatch(s, store, [eventCreated('cleared@example.com', at(1), { purposes: { [PURPOSE]: true } })]);
  s.emu.org.update(null, 'Lead', lead, { Didomi_User_Id__c: null }, { trusted: true });
  await oneBatch(s, store, [eventCreated('cleared@example.com', at(2), { purposes: { [PURPOSE]: false } })]);
  const leads = await s.records('Lead');
  assert.equal(leads.length, 1, 'nothing created');
  assert.equal(leads[0].HasOptedOutOfEmail, true);
  assert.equal(leads[0].Didomi_User_Id__c, 'cleared@example.com', 'relinked: the id is written again, though the cache says it was');
});

test('a record deleted between the match and the write (ENTITY_IS_DELETED) is retried and matched again, never dead-lettered', async () => {
  const { s, store } = await heldStack();
  const [gone] = s.emu.seed({ Lead: [{ LastName: 'Race', Company: 'Acme', Email: 'race@example.com' }] }).Lead;
  await oneBatch(s, store, [eventCreated('race@example.com', at(1), { purposes: { [PURPOSE]: true } })]);
  const [survivor] = s.emu.seed({ Lead: [{ LastName: 'Race2', Company: 'Acme', Email: 'race@example.com' }] }).Lead;
  // the org deletes the linked Lead (a merge) just before the next write to it reaches it
  const deleted = deleteBeforeNextWrite(s, gone);
  // the failed write and its retry
  await oneBatch(s, store, [eventCreated('race@example.com', at(2), { purposes: { [PURPOSE]: false } })], 2);
  assert.equal(deleted(), true, 'the deletion happened');
  await waitFor('the withdrawal on the survivor', async () => (await s.records('Lead')).find((l) => l.Id === survivor)?.HasOptedOutOfEmail === true);
  const m = await s.metrics();
  assert.equal(metricSum(m, 'didomi_sync_events_failed_total'), 0, 'nothing dead-lettered');
  assert.equal((await s.records('Lead')).length, 1);
});

test('a person with two Leads by Email stays matched on both: the second, which cannot carry the unique id, is never dropped', async () => {
  const { s, store } = await heldStack();
  s.emu.seed({
    Lead: [
      { LastName: 'A', Company: 'Acme', Email: 'twice@example.com' },
      { LastName: 'B', Company: 'Acme', Email: 'TWICE@example.com' },
    ],
  });
  await oneBatch(s, store, [eventCreated('twice@example.com', at(1), { purposes: { [PURPOSE]: true } })]);
  await oneBatch(s, store, [eventCreated('twice@example.com', at(2), { purposes: { [PURPOSE]: false } })]);
  const leads = await s.records('Lead');
  assert.deepEqual(
    leads.map((l) => l.HasOptedOutOfEmail),
    [true, true],
    'both written',
  );
  assert.equal(leads.filter((l) => l.Didomi_User_Id__c === 'twice@example.com').length, 1, 'one holds the id');
});

test('"Delete Record": a record already deleted in the org (ENTITY_IS_DELETED) counts as deleted, never dead-lettered', async () => {
  const { s, store } = await heldStack(
    { leadDeletion: 'Delete Record' },
    { extraPermissionSets: { Consent_Fields_Integration: { ...CUSTOMER_PERMISSION_SETS.Consent_Fields_Integration, Lead: 'delete' } } },
  );
  const [lead] = s.emu.seed({ Lead: [{ LastName: 'Del', Company: 'Acme', Email: 'del@example.com' }] }).Lead;
  await oneBatch(s, store, [eventCreated('del@example.com', at(1), { purposes: { [PURPOSE]: true } })]);
  const deleted = deleteBeforeNextWrite(s, lead);
  await oneBatch(s, store, [userDeleted('del@example.com', at(2))]);
  assert.equal(deleted(), true, 'the deletion raced the sync');
  assert.deepEqual(await s.records('Lead'), []);
  assert.equal(metricSum(await s.metrics(), 'didomi_sync_events_failed_total'), 0, 'nothing dead-lettered');
});
