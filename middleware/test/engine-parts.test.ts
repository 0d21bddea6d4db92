// The engine's parts alone, with no HTTP: the planner (plan.ts), the worker loop (worker-loop.ts)
// and housekeeping timers (housekeeping.ts); write packing (write.ts) and the configuration refresh's call (config-refresh.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBatch, AMBIGUOUS_MATCH, type Matches } from '../src/sync/plan.ts';
import { workOf, type RecordOp, type Work } from '../src/sync/work.ts';
import { packCollections } from '../src/sync/write.ts';
import { matchQueries, MAX_QUERY_URL_BYTES } from '../src/sync/match.ts';
import { isLinked, reconcileWritten } from '../src/sync/link-cache.ts';
import { readOrg } from '../src/sync/config-refresh.ts';
import type { SalesforceApi } from '../src/sync/clients.ts';
import { WorkerLoop } from '../src/sync/worker-loop.ts';
import { Housekeeping } from '../src/sync/housekeeping.ts';
import { createLogger } from '../src/observability/logger.ts';
import type { ClaimedUser, Json } from '../src/store/types.ts';
import type { Target } from '../src/sync/config-types.ts';
import { mapping as purposeMapping, storedAt, target } from './support/sync-config.ts';
import type { CompositeSubrequest, CompositeSubresponse, SObjectRow } from '../src/salesforce/client.ts';
import { eventCreated, userDeleted, PURPOSE } from '../../test/support/didomi-events.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const logger = createLogger('silent');
const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const claimed = (userKey: string, bodies: unknown[], written: Record<string, Record<string, unknown>> | null = null): ClaimedUser => ({
  userKey,
  state: null,
  written: written as unknown as Json,
  attempts: 0,
  firstFailedAt: null,
  events: bodies.map((b) => storedAt(b, new Date(t0))),
});
const optIn = (key: string, enabled: boolean) => eventCreated(key, at(1), { purposes: { [PURPOSE]: enabled } });

const mapping = purposeMapping({ field: 'HasOptedOutOfEmail', invert: true });
const lead = (o: Partial<Target> = {}) => target([mapping], o);
const matches = (byKey: Record<string, SObjectRow[]>, object = 'Lead'): Matches => new Map([[object, new Map(Object.entries(byKey))]]);
const row = (Id: string, fields: Record<string, unknown> = {}): SObjectRow => ({ Id, ...fields });

test('planner: a matched record gets an update of the projected fields; the same values again plan nothing', () => {
  const t = lead();
  const w = workOf(claimed('a@x.com', [optIn('a@x.com', false)]));
  const plan = planBatch([t], [w], matches({ 'a@x.com': [row('00Q1', { Email: 'a@x.com' })] }));
  assert.equal(plan.ops.length, 1);
  assert.equal(plan.ops[0].kind, 'update');
  assert.equal(plan.ops[0].id, '00Q1');
  assert.equal(plan.ops[0].fields.HasOptedOutOfEmail, true, 'no consent: the inverted opt-out field is true');
  assert.equal(plan.ops[0].fields.Didomi_User_Id__c, 'a@x.com');
  // what was last written to the record is not written again
  const again = workOf(claimed('a@x.com', [optIn('a@x.com', false)], { '00Q1': plan.ops[0].fields }));
  assert.deepEqual(planBatch([t], [again], matches({ 'a@x.com': [row('00Q1', { Email: 'a@x.com' })] })).ops, []);
});

test('planner: no match in upsert mode plans an external-id upsert with the creation defaults; without upsert mode, nothing', () => {
  const w = workOf(claimed('new@x.com', [optIn('new@x.com', true)]));
  const fields = new Map([['email', { name: 'Email', type: 'email', updateable: true, createable: true, length: 80, required: false, filterable: true }]]);
  const plan = planBatch([lead({ upsertMode: true, creationDefaults: { Company: 'Unknown', LastName: 'Didomi' }, fields })], [w], matches({}));
  assert.equal(plan.ops.length, 1);
  assert.equal(plan.ops[0].kind, 'upsert');
  assert.deepEqual(
    { ...plan.ops[0].fields, Didomi_Consent_Updated_At__c: undefined, Didomi_Consents__c: undefined },
    {
      Company: 'Unknown',
      LastName: 'Didomi',
      Email: 'new@x.com',
      HasOptedOutOfEmail: false,
      Didomi_User_Id__c: 'new@x.com',
      Didomi_Consent_Updated_At__c: undefined,
      Didomi_Consents__c: undefined,
    },
  );
  assert.deepEqual(planBatch([lead()], [workOf(claimed('new@x.com', [optIn('new@x.com', true)]))], matches({})).ops, []);
});

test('planner: user.deleted deletes the matched record under "Delete Record", clears it under "Clear Consent Fields", leaves it under "Ignore"', () => {
  const deleted = () => workOf(claimed('d@x.com', [optIn('d@x.com', true), userDeleted('d@x.com', at(2))]));
  const m = matches({ 'd@x.com': [row('00Q9', { Email: 'd@x.com', Didomi_User_Id__c: 'd@x.com' })] });
  const del = planBatch([lead({ deletionBehavior: 'Delete Record' })], [deleted()], m).ops;
  assert.deepEqual(
    del.map((o) => [o.kind, o.id]),
    [['delete', '00Q9']],
  );
  const clear = planBatch([lead({ deletionBehavior: 'Clear Consent Fields' })], [deleted()], m).ops;
  assert.deepEqual(
    clear.map((o) => [o.kind, o.id, o.fields.HasOptedOutOfEmail]),
    [['update', '00Q9', true]],
  );
  assert.deepEqual(planBatch([lead()], [deleted()], m).ops, []);
});

test('planner: one record reached by two users keeps the user whose Didomi_User_Id__c it carries; the other is dead-lettered as an ambiguous match', () => {
  // The record's Email is a@x.com's key, its Didomi_User_Id__c is b@x.com's: both users match it.
  const shared = row('00Q5', { Email: 'a@x.com', Didomi_User_Id__c: 'b@x.com' });
  const m = matches({ 'a@x.com': [shared], 'b@x.com': [shared] });
  for (const order of [
    ['a@x.com', 'b@x.com'],
    ['b@x.com', 'a@x.com'],
  ]) {
    const works: Work[] = order.map((k) => workOf(claimed(k, [optIn(k, k === 'a@x.com')])));
    const plan = planBatch([lead()], works, m);
    assert.deepEqual(
      plan.ops.map((o) => [o.work.user.userKey, o.id, o.fields.HasOptedOutOfEmail]),
      [['b@x.com', '00Q5', true]],
      `only the holder writes, whatever the order (${order})`,
    );
    assert.deepEqual(
      plan.failures.map((f) => [f.work.user.userKey, f.id, f.code, f.kind]),
      [['a@x.com', '00Q5', AMBIGUOUS_MATCH, 'permanent']],
    );
  }
  // The non-holder alone in its batch, deleted in Didomi: the holder's record is neither deleted nor cleared.
  const alone = planBatch([lead({ deletionBehavior: 'Delete Record' })], [workOf(claimed('a@x.com', [userDeleted('a@x.com', at(2))]))], m);
  assert.deepEqual(alone.ops, []);
  assert.equal(alone.failures[0].code, AMBIGUOUS_MATCH);
});

test('planner: extra steps add record operations to the plan (extension point)', () => {
  const w = workOf(claimed('a@x.com', [optIn('a@x.com', true)]));
  const plan = planBatch([lead()], [w], matches({ 'a@x.com': [row('00Q1')] }), [
    ({ plan }) => plan.ops.map((o) => ({ ...o, kind: 'update' as const, id: `extra-${o.id}`, fields: {} })),
  ]);
  assert.deepEqual(
    plan.ops.map((o) => o.id),
    ['00Q1', 'extra-00Q1'],
  );
});

test('worker loop: claims only once ready, hands each batch to process, keeps leases while it runs, and wakes on notify', async () => {
  let ready = false;
  let asked = 0;
  const claims: number[] = [];
  const extended: string[][] = [];
  let queued: ClaimedUser[] = [];
  const processed: string[][] = [];
  let release!: () => void;
  const inBatch = new Promise<void>((r) => (release = r));
  let batchStarted!: () => void;
  const started = new Promise<void>((r) => (batchStarted = r));
  const loop = new WorkerLoop({
    store: {
      claim: async (o) => {
        claims.push(o.maxUsers);
        const out = queued;
        queued = [];
        return out;
      },
      extendLeases: async (_w, keys) => {
        extended.push(keys);
        return keys;
      },
    },
    workerId: 'w1',
    logger,
    maxUsers: 10,
    leaseMs: 30,
    minBatchIntervalMs: 1,
    idlePollMs: 60_000, // only notify() wakes it within the test
    ready: () => {
      asked++;
      return ready;
    },
    process: async (users) => {
      processed.push(users.map((u) => u.userKey));
      batchStarted();
      await inBatch;
    },
  });
  loop.start(1);
  await waitFor('the loop asks whether it may claim', () => asked > 0);
  assert.deepEqual(claims, [], 'nothing claimed before a configuration is there');
  ready = true;
  await waitFor('a claim once ready', () => claims.length > 0);
  queued = [claimed('a@x.com', [])];
  loop.notify();
  await started;
  assert.deepEqual(processed, [['a@x.com']]);
  await waitFor('a lease renewal while the batch is in flight', () => extended.length > 0); // every third of the lease
  assert.deepEqual(extended[0], ['a@x.com']);
  release();
  await loop.stop();
});

test('housekeeping: each task on its own timer (the configuration refreshes at its period while the heartbeat keeps its own); atStart: false waits a period', async () => {
  const runs: string[] = [];
  const hk = new Housekeeping(
    [
      { name: 'config', everyMs: () => 10, run: async () => void runs.push('config') },
      { name: 'heartbeat', everyMs: () => 60_000, run: async () => void runs.push('heartbeat') },
      { name: 'later', everyMs: () => 60_000, atStart: false, run: async () => void runs.push('later') },
    ],
    logger,
  );
  await hk.start();
  assert.deepEqual(runs, ['config', 'heartbeat'], 'both due at start; "later" is not');
  await waitFor('four configuration runs', () => runs.filter((r) => r === 'config').length >= 4);
  await hk.stop();
  assert.equal(runs.filter((r) => r === 'heartbeat').length, 1, 'the heartbeat keeps its own period');
  assert.equal(runs.filter((r) => r === 'later').length, 0);
});

test('match queries: a linked key only in the Didomi_User_Id__c list, the others in both lists; every url under the limit; every key once', () => {
  const linked = Array.from({ length: 700 }, (_, i) => `linked.user${i}@example.com`);
  const fresh = Array.from({ length: 300 }, (_, i) => `fresh.user${i}@example.com`);
  const base = '/services/data/v66.0';
  const qs = matchQueries(lead(), { byId: linked, both: fresh }, base);
  const urls = qs.map((q) => `${base}/query?q=${encodeURIComponent(q)}`);
  assert.ok(
    urls.every((u) => u.length <= MAX_QUERY_URL_BYTES),
    `url sizes ${urls.map((u) => u.length)}`,
  );
  assert.ok(qs.length <= 5, `${qs.length} queries: one composite`);
  const idLists = qs.map((q) => /Didomi_User_Id__c IN \(([^)]*)\)/.exec(q)![1]).join(', ');
  const emailLists = qs.map((q) => /Email IN \(([^)]*)\)/.exec(q)?.[1] ?? '').join(', ');
  for (const k of linked) assert.ok(idLists.includes(`'${k}'`) && !emailLists.includes(`'${k}'`), k);
  for (const k of fresh) assert.ok(idLists.includes(`'${k}'`) && emailLists.includes(`'${k}'`), k);
  assert.equal(idLists.split(', ').length, 1000, 'each key once in the id lists');
  // with nothing to match by Email, no Email list at all
  assert.ok(matchQueries(lead(), { byId: ['a@x.com'], both: [] }).every((q) => !q.includes('Email IN')));
});

test('link cache: linked only when the one cached record of the object carries the id; the cache forgets records not matched and ids the org changed', () => {
  const w = (written: Record<string, Record<string, unknown>>) => workOf(claimed('a@x.com', [optIn('a@x.com', true)], written));
  assert.equal(isLinked(lead(), 'A@x.com', w({ '00Q1': { Didomi_User_Id__c: 'a@x.com' } }).written), true);
  assert.equal(isLinked(lead(), 'a@x.com', w({ '00Q1': { Didomi_User_Id__c: 'a@x.com' }, '00Q2': { DoNotCall: true } }).written), false, 'two Leads');
  assert.equal(isLinked(lead(), 'a@x.com', w({ '00Q1': { DoNotCall: true } }).written), false, 'the one without the id');
  assert.equal(isLinked(lead({ object: 'Contact' }), 'a@x.com', w({ '00Q1': { Didomi_User_Id__c: 'a@x.com' } }).written), false, 'a Lead is no Contact');
  const work = w({ '00Q1': { Didomi_User_Id__c: 'a@x.com', DoNotCall: true }, '00Q2': { DoNotCall: true }, '0PK1': { Name: 'i' } });
  reconcileWritten([work], [lead()], matches({ 'a@x.com': [row('00Q1', { Didomi_User_Id__c: null })] }));
  assert.deepEqual(work.written, { '00Q1': { DoNotCall: true }, '0PK1': { Name: 'i' } }, 'unmatched Lead forgotten, cleared id forgotten, Individual kept');
});

test('write packing: consent data model records get collections of their own sObject type, upserts one per object and external id', () => {
  const t = lead();
  const w = workOf(claimed('a@x.com', [optIn('a@x.com', true)]));
  const ops: RecordOp[] = [
    { work: w, target: t, kind: 'update', id: '00Q1', fields: { HasOptedOutOfEmail: false } },
    { work: w, target: t, kind: 'update', id: '0ZY1', fields: { PrivacyConsentStatus: 'OptOut' }, sobject: 'ContactPointTypeConsent' },
    { work: w, target: t, kind: 'update', id: '00Q2', fields: { HasOptedOutOfEmail: true } },
    { work: w, target: t, kind: 'upsert', fields: { Didomi_User_Id__c: 'a@x.com', LastName: 'a' } },
    { work: w, target: t, kind: 'upsert', fields: { Didomi_User_Id__c: 'a@x.com', LastName: 'a' }, sobject: 'Individual', externalId: 'Didomi_User_Id__c' },
    { work: w, target: t, kind: 'upsert', fields: { Didomi_Consent_Key__c: 'k' }, sobject: 'ContactPointTypeConsent', externalId: 'Didomi_Consent_Key__c' },
  ];
  const groups = packCollections(ops, '/b');
  const types = (g: (typeof groups)[number]) => [
    ...new Set((g.sub.body as { records: { attributes: { type: string } }[] }).records.map((r) => r.attributes.type)),
  ];
  assert.deepEqual(
    groups.map((g) => [g.sub.url, types(g).join(','), g.ops.length]),
    [
      ['/b/composite/sobjects', 'Lead', 2],
      ['/b/composite/sobjects', 'ContactPointTypeConsent', 1],
      ['/b/composite/sobjects/Lead/Didomi_User_Id__c', 'Lead', 1],
      ['/b/composite/sobjects/Individual/Didomi_User_Id__c', 'Individual', 1],
      ['/b/composite/sobjects/ContactPointTypeConsent/Didomi_Consent_Key__c', 'ContactPointTypeConsent', 1],
    ],
  );
});

test('configuration refresh: targets, mappings, retry and bulk requests and describes in one composite call', async () => {
  const calls: CompositeSubrequest[][] = [];
  const query = (records: SObjectRow[]) => ({ totalSize: records.length, done: true, records });
  const sf = {
    base: '/b',
    calls: 0,
    composite: async (subs: CompositeSubrequest[]): Promise<CompositeSubresponse[]> => {
      calls.push(subs);
      return subs.map((s) => {
        const soql = decodeURIComponent(s.url.split('q=')[1] ?? '');
        if (s.referenceId === 'bulk') return { referenceId: s.referenceId, httpStatusCode: 200, body: query([row('a0B1', { Status__c: 'Pending' })]) };
        if (soql) return { referenceId: s.referenceId, httpStatusCode: 200, body: query([]) };
        return { referenceId: s.referenceId, httpStatusCode: 200, body: { fields: [] } };
      });
    },
  } as unknown as SalesforceApi;
  const org = await readOrg(sf);
  assert.equal(calls.length, 1, 'one API call');
  assert.ok(
    calls[0].some((s) => s.referenceId === 'bulk' && decodeURIComponent(s.url).includes('FROM Didomi_Sync_Bulk_Request__c')),
    'the bulk requests ride in it',
  );
  assert.deepEqual(
    org.bulkRequests.map((r) => r.Id),
    ['a0B1'],
  );
  assert.ok(org.config, 'the configuration is read from the same call');
});
