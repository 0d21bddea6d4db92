// Salesforce -> Didomi through Change Data Capture, over the emulator's real gRPC Pub/Sub API: every
// refusal a person commits reaches Didomi once (ChangeEventHeader.commitUser and changedFields, CDC
// Developer Guide "ChangeEventHeader Fields"), at no REST API cost in steady state, from a position
// persisted in the store; beyond the 72 h retention (Pub/Sub API guide "Event Message Durability") a
// one-off catch-up query takes over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startStack, TEST_DATABASE_URL, type Stack, type StackOptions } from '../../test/support/stack.ts';
import { startDidomiApiStub, type DidomiApiStub } from '../../test/support/didomi-api.ts';
import { eventCreated } from '../../test/support/didomi-events.ts';
import { PURPOSE, PHONE_PURPOSE } from '../../test/support/org-fixture.ts';
import { metricSum, waitFor } from '../../test/support/wait-for.ts';

const API = { key: 'didomi-api-key', secret: 'didomi-api-secret-0123456789', organizationId: 'acme-corp' };
const HOUR = 3600_000;

async function setup(env: Record<string, string> = {}, more: Partial<StackOptions> = {}): Promise<{ stack: Stack; didomi: DidomiApiStub }> {
  const didomi = await startDidomiApiStub(API);
  const stack = await startStack({
    ...more,
    seed: { contact: false },
    followEmulatorClock: true,
    env: {
      ...(process.env.DEBUG_CDC ? { LOG_LEVEL: 'debug' } : {}),
      DIDOMI_API_URL: didomi.url,
      DIDOMI_API_KEY: API.key,
      DIDOMI_API_SECRET: API.secret,
      DIDOMI_ORGANIZATION_ID: API.organizationId,
      ...env,
    },
  });
  await subscribed(stack);
  return { stack, didomi };
}

/** Waits until the middleware holds a subscription to the Lead change events and saved its starting position. */
async function subscribed(stack: Stack, from = 0) {
  await waitFor('a Lead change event subscription', () => stack.emu.pubsub!.stats.subscribes > from);
}

const events = async (stack: Stack | Stack[], outcome: string) => {
  let n = 0;
  for (const s of [stack].flat()) n += metricSum(await s.metrics(), 'didomi_sync_reverse_change_events_total', { object: 'Lead', outcome });
  return n;
};
const queries = (stack: Stack) => stack.emu.stats().apiCalls.byResource.query ?? 0;

/** Two Leads synced from Didomi with marketing and calls given; returns their ids. */
async function syncedLeads(stack: Stack, all: Stack[] = [stack]): Promise<string[]> {
  const ids = stack.emu.seed({
    Lead: [
      { LastName: 'Rep', Company: 'Acme', Email: 'call@example.com' },
      { LastName: 'Other', Company: 'Acme', Email: 'other@example.com' },
    ],
  }).Lead;
  const t0 = new Date(Date.now() - 60_000);
  for (const email of ['call@example.com', 'other@example.com'])
    assert.equal((await stack.post(eventCreated(email, t0, { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: true } }))).status, 202);
  await stack.waitForDrain();
  // The subscriber has seen the sync's own writes (two updates) before the test goes on.
  await waitFor('the sync writes seen as change events', async () => (await events(all, 'own_write')) >= 2);
  return ids;
}

const refusalOf = (email: string, purpose: string) => ({
  organizationId: 'acme-corp',
  body: { user: { organization_user_id: email }, regulation: 'gdpr', consents: { purposes: [{ id: purpose, enabled: false }] } },
});

test('a refusal a person commits reaches Didomi once; the sync’s own writes are not echoed and cost no REST API call', async () => {
  const { stack, didomi } = await setup();
  try {
    const [leadId] = await syncedLeads(stack);
    assert.equal(didomi.events.length, 0, "the service's own writes are not sent back");
    assert.equal(queries(stack), 0, 'steady state: the subscriber made no REST API call for the sync’s own change events');

    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the refusal in Didomi', () => didomi.events.length === 1);
    assert.deepEqual(didomi.events[0], refusalOf('call@example.com', PURPOSE));
    assert.equal(queries(stack), 1, 'one query, to read the Didomi user id and last synced state of the changed record');

    // A change that is not a consent field costs nothing and sends nothing.
    stack.emu.org.update(rep, 'Lead', leadId, { Company: 'Acme Europe' });
    await waitFor('the Company change seen', async () => (await events(stack, 'ignored')) >= 1);
    // Didomi's webhook for the refusal comes back like any other: its write is ours, never echoed.
    assert.equal((await stack.post(eventCreated('call@example.com', new Date(), { purposes: { [PURPOSE]: false } }))).status, 202);
    await stack.waitForDrain();
    await waitFor('the echo write seen', async () => (await events(stack, 'own_write')) >= 3);
    assert.equal(didomi.events.length, 1, 'no loop, no second send');
    assert.equal(queries(stack), 1);
    assert.equal(metricSum(await stack.metrics(), 'didomi_sync_reverse_events_total', { outcome: 'sent' }), 1);
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('a refusal for a Didomi user with no organization_user_id is posted by Didomi user id, not by the internal "didomi:" key', async () => {
  const { stack, didomi } = await setup();
  try {
    // A Lead carrying the internal key of a Didomi user the customer never identified: the sync matches it by Didomi_User_Id__c.
    const [leadId] = stack.emu.seed({ Lead: [{ LastName: 'Anon', Company: 'Acme', Didomi_User_Id__c: 'didomi:didomi-anon' }] }).Lead;
    const t0 = new Date(Date.now() - 60_000);
    const given = eventCreated('anon', t0, { purposes: { [PURPOSE]: true } }, { organizationUserId: null });
    assert.equal((await stack.post(given)).status, 202);
    await stack.waitForDrain();
    await waitFor('the sync write seen as a change event', async () => (await events(stack, 'own_write')) >= 1);
    assert.equal(stack.emu.org.get('Lead', leadId)!.HasOptedOutOfEmail, false, 'the consent reached the Lead');

    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the refusal in Didomi', () => didomi.events.length === 1);
    // Didomi addresses a user by its own id as `user.id` (reference/didomi.md "Consent user and consent event
    // objects"; https://developers.didomi.io/api-and-platform/consents/events/consent-event-schema).
    assert.deepEqual(didomi.events[0], {
      organizationId: 'acme-corp',
      body: { user: { id: 'didomi-anon' }, regulation: 'gdpr', consents: { purposes: [{ id: PURPOSE, enabled: false }] } },
    });
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('a refusal followed at once by a sync write to the same record still reaches Didomi (the case polling misses)', async () => {
  const { stack, didomi } = await setup();
  try {
    const [leadId] = await syncedLeads(stack);
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    assert.equal((await stack.post(eventCreated('call@example.com', new Date(), { purposes: { [PHONE_PURPOSE]: false } }))).status, 202);
    await stack.waitForDrain();
    const after = stack.emu.org.get('Lead', leadId)!;
    assert.equal(after.DoNotCall, true, 'the sync wrote the record after the person');
    assert.notEqual(after.LastModifiedById, rep.id, 'LastModifiedById is the integration user: a SystemModstamp poll skips this record');
    await waitFor('the refusal in Didomi', () => didomi.events.length >= 1);
    await waitFor('the sync write seen', async () => (await events(stack, 'own_write')) >= 3);
    assert.deepEqual(didomi.events, [refusalOf('call@example.com', PURPOSE)]);
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('a restart resumes from the persisted replay id: refusals made while stopped travel once, nothing twice', async () => {
  const { stack, didomi } = await setup();
  try {
    const [leadId, otherId] = await syncedLeads(stack);
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the first refusal in Didomi', () => didomi.events.length === 1);
    const saved = await stack.service!.store.reversePosition('cdc:Lead');
    assert.ok(saved?.replayId, 'the last processed replay id is in the store');

    const subscribes = stack.emu.pubsub!.stats.subscribes;
    await stack.service!.stop();
    stack.emu.org.update(rep, 'Lead', otherId, { DoNotCall: true }); // while the service is down
    await stack.restart();
    await subscribed(stack, subscribes);
    await waitFor('the refusal made while stopped in Didomi', () => didomi.events.length >= 2);
    const store = stack.service!.store;
    await waitFor('resumed stream position saved', async () => (await store.reversePosition('cdc:Lead'))?.replayId !== saved.replayId);
    assert.deepEqual(didomi.events, [refusalOf('call@example.com', PURPOSE), refusalOf('other@example.com', PHONE_PURPOSE)]);
    assert.equal(stack.emu.pubsub!.stats.refused[REPLAY_REFUSED] ?? 0, 0, 'resumed by replay id, within retention');
    assert.equal(metricSum(await stack.metrics(), 'didomi_sync_reverse_catchups_total'), 0, 'no catch-up query needed');
  } finally {
    await stack.close();
    await didomi.close();
  }
});

const REPLAY_REFUSED = 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted';

test('a refusal Didomi has not accepted when the service stops is sent after the restart: never lost', async () => {
  const { stack, didomi } = await setup({ SHUTDOWN_GRACE_MS: '60000' });
  try {
    const [leadId] = await syncedLeads(stack);
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    didomi.failNext(1_000_000); // Didomi answers 503 until the restart
    const retries = async () => metricSum(await stack.metrics(), 'didomi_sync_reverse_events_total', { outcome: 'retry' });
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the refusal refused by Didomi', async () => (await retries()) > 0);
    const subscribes = stack.emu.pubsub!.stats.subscribes;
    await stack.service!.stop();
    didomi.failNext(0);
    await stack.restart();
    await subscribed(stack, subscribes);
    await waitFor('the refusal in Didomi after the restart', () => didomi.events.length === 1);
    assert.deepEqual(didomi.events, [refusalOf('call@example.com', PURPOSE)]);
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('a stop while a refusal is being sent waits for it and keeps its position: after the restart it is not sent again', async () => {
  // a long grace, so the stop is decided by the subscriber, not by a timer
  const { stack, didomi } = await setup({ SHUTDOWN_GRACE_MS: '60000' });
  try {
    const [leadId, otherId] = await syncedLeads(stack);
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    didomi.holdAnswers = true; // Didomi has the refusal but has not answered yet when the stop begins
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the refusal received by Didomi', () => didomi.events.length === 1);
    const subscribes = stack.emu.pubsub!.stats.subscribes;
    const stopped = stack.service!.stop();
    await waitFor('the change event stream closed by the stop', () => stack.emu.pubsub!.openStreams() === 0);
    didomi.holdAnswers = false;
    await stopped;
    await stack.restart();
    await subscribed(stack, subscribes);
    // a later refusal: once it is in Didomi, the restarted stream has passed anything it would replay
    stack.emu.org.update(rep, 'Lead', otherId, { DoNotCall: true });
    await waitFor('the later refusal in Didomi', () => didomi.events.length >= 2);
    assert.deepEqual(didomi.events, [refusalOf('call@example.com', PURPOSE), refusalOf('other@example.com', PHONE_PURPOSE)], 'each refusal once');
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('a change event that does not decode is skipped and counted; it holds back no later refusal', async () => {
  const { stack, didomi } = await setup();
  try {
    const [leadId, otherId] = await syncedLeads(stack);
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.pubsub!.corruptNext(1);
    stack.emu.org.update(rep, 'Lead', leadId, { Company: 'Acme Europe' }); // its event arrives damaged
    stack.emu.org.update(rep, 'Lead', otherId, { DoNotCall: true });
    await waitFor('the refusal in Didomi', () => didomi.events.length >= 1);
    assert.deepEqual(didomi.events, [refusalOf('other@example.com', PHONE_PURPOSE)]);
    assert.equal(await events(stack, 'undecodable'), 1);
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('a revoked session and a dropped stream: the subscriber logs in again, resubscribes from its position and misses nothing', async () => {
  const { stack, didomi } = await setup({ RETRY_BACKOFF_SCALE: '0.01' });
  try {
    const [leadId] = await syncedLeads(stack);
    const subscribes = stack.emu.pubsub!.stats.subscribes;
    stack.emu.revokeSessions();
    assert.ok(stack.emu.pubsub!.dropStreams() >= 1, 'the open stream is cut');
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true }); // while no stream is open
    await waitFor('the refusal in Didomi', () => didomi.events.length >= 1);
    assert.ok(stack.emu.pubsub!.stats.subscribes > subscribes, 'resubscribed');
    assert.ok((stack.emu.pubsub!.stats.refused['sfdc.platform.eventbus.grpc.service.auth.error'] ?? 0) >= 1, 'the revoked session was refused first');
    assert.deepEqual(didomi.events, [refusalOf('call@example.com', PURPOSE)]);
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('an outage longer than the 72 h retention falls back to one catch-up query, counted in /metrics', async () => {
  const { stack, didomi } = await setup();
  try {
    const [leadId, otherId] = await syncedLeads(stack);
    const subscribes = stack.emu.pubsub!.stats.subscribes;
    await stack.service!.stop();
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', otherId, { DoNotCall: true });
    stack.emu.advanceClock(73 * HOUR); // the bus purges every event the service has not seen
    await stack.restart();
    await subscribed(stack, subscribes);
    await waitFor('the refusal in Didomi', () => didomi.events.length >= 1);
    assert.deepEqual(didomi.events, [refusalOf('other@example.com', PHONE_PURPOSE)]);
    assert.ok((stack.emu.pubsub!.stats.refused[REPLAY_REFUSED] ?? 0) >= 1, 'Salesforce refused the stale replay id');
    assert.equal(metricSum(await stack.metrics(), 'didomi_sync_reverse_catchups_total', { object: 'Lead' }), 1);
    // After the catch-up the stream runs again: the next refusal travels by change event.
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the next refusal in Didomi', () => didomi.events.length >= 2);
    assert.deepEqual(didomi.events[1], refusalOf('call@example.com', PURPOSE));
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('replicas on one PostgreSQL store: one holds the change event stream, each refusal reaches Didomi once, the other takes over', async () => {
  const schema = `cdc_replicas_${process.pid}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
  const didomi = await startDidomiApiStub(API);
  const env = {
    DIDOMI_API_URL: didomi.url,
    DIDOMI_API_KEY: API.key,
    DIDOMI_API_SECRET: API.secret,
    DIDOMI_ORGANIZATION_ID: API.organizationId,
    REVERSE_LEASE_MS: '3000',
  };
  const stacks: Stack[] = [];
  try {
    stacks.push(await startStack({ store: 'postgres', databaseUrl: url, seed: { contact: false }, env: { ...env, INSTANCE_ID: 'replica-1' } }));
    stacks.push(await startStack({ store: 'postgres', databaseUrl: url, replicaOf: stacks[0], env: { ...env, INSTANCE_ID: 'replica-2' } }));
    await subscribed(stacks[0]);
    const [leadId, otherId] = await syncedLeads(stacks[0], stacks);
    const rep = stacks[0].emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stacks[0].emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the refusal in Didomi', () => didomi.events.length >= 1);
    assert.equal(stacks[0].emu.pubsub!.stats.subscribes, 1, 'one replica subscribed; the other waits on the lease');

    // The holder stops (graceful: it gives the lease back); the other replica resumes from the saved replay id.
    const holder = String((await admin.query(`SELECT holder FROM ${schema}.reverse_position WHERE stream = 'cdc:Lead'`)).rows[0].holder);
    const stopping = stacks.find((s) => holder.startsWith(s.env.INSTANCE_ID))!;
    await stopping.service!.stop();
    const other = stacks.find((s) => s !== stopping)!;
    other.emu.org.update(rep, 'Lead', otherId, { DoNotCall: true });
    await waitFor('the second refusal in Didomi', () => didomi.events.length >= 2);
    await waitFor('the refusal event processed', async () => (await events(other, 'refusal')) >= 1);
    assert.deepEqual(didomi.events, [refusalOf('call@example.com', PURPOSE), refusalOf('other@example.com', PHONE_PURPOSE)]);
    assert.equal(stacks[0].emu.pubsub!.stats.refused[REPLAY_REFUSED] ?? 0, 0, 'resumed by replay id');
  } finally {
    for (const s of stacks.reverse()) await s.close().catch(() => undefined); // the first owns the emulator: closed last
    await didomi.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});

test('an integration user without View All Records on Lead: the refusal is logged naming the missing permission, and the stream resumes once it is granted', async () => {
  const lines: string[] = [];
  const { stack, didomi } = await setup({ RETRY_BACKOFF_SCALE: '0.01' }, { logLevel: 'warn', onLog: (l) => lines.push(l) });
  try {
    // An admin edits the package permission set and unticks View All Records on Lead; then the stream
    // breaks (a network blip) and the subscriber resubscribes.
    stack.emu.org.editObjectGrant('Didomi_Sync_Integration', 'Lead', { viewAll: false });
    const before = stack.emu.pubsub!.stats.subscribes;
    assert.equal(stack.emu.pubsub!.dropStreams(), 1);
    const refusal = () => lines.map((l) => JSON.parse(l)).find((l) => l.level === 50 && l.object === 'Lead' && /grant it View All Records on Lead/.test(l.msg));
    await waitFor('the missing permission logged as an error', () => !!refusal());
    assert.match(refusal().err, /needs View All Records on Lead/, "Salesforce's refusal is quoted");
    assert.equal(stack.emu.pubsub!.stats.subscribes, before, 'no subscription while the permission is missing');
    stack.emu.org.editObjectGrant('Didomi_Sync_Integration', 'Lead', { viewAll: true });
    await subscribed(stack, before);
  } finally {
    await stack.close();
    await didomi.close();
  }
});
