// Salesforce -> Didomi: a refusal recorded in Salesforce by a person reaches Didomi's Consents API
// once (reference/didomi.md "Consents API"; detection by SOQL on SystemModstamp, the fallback
// reference/salesforce.md gives for Change Data Capture), and never loops back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '../../test/support/stack.ts';
import { startDidomiApiStub, type DidomiApiStub } from '../../test/support/didomi-api.ts';
import { eventCreated } from '../../test/support/didomi-events.ts';
import { PURPOSE, PHONE_PURPOSE } from '../../test/support/org-fixture.ts';
import { refusalsOf } from '../src/sync/reverse.ts';
import type { Mapping } from '../src/sync/config-types.ts';
import { mapping as purposeMapping, target as leadTarget } from './support/sync-config.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const mapping = (field: string, purposeId: string, o: Partial<Mapping> = {}) => purposeMapping({ id: field, field, purposeId, ...o });
const target = leadTarget([
  mapping('HasOptedOutOfEmail', 'marketing', { invert: true }),
  mapping('Cpra__c', 'marketing', { regulation: 'cpra' }),
  mapping('Calls__c', 'calls'),
]);
const snapshot = (purposes: Record<string, Record<string, boolean>>) => JSON.stringify({ purposes });

test('refusalsOf: only refusals Didomi does not know yet, per regulation, with invert', () => {
  const known = snapshot({ gdpr: { marketing: true, calls: true }, cpra: { marketing: true } });
  const row = (f: Record<string, unknown>) => ({
    Didomi_User_Id__c: 'a@example.com',
    Didomi_Consents__c: known,
    HasOptedOutOfEmail: false,
    Cpra__c: true,
    Calls__c: true,
    ...f,
  });
  assert.deepEqual(refusalsOf(target, row({})), [], 'Salesforce agrees with Didomi');
  assert.deepEqual(refusalsOf(target, row({ HasOptedOutOfEmail: true, Calls__c: false })), [
    { userKey: 'a@example.com', regulation: 'gdpr', purposes: ['calls', 'marketing'] },
  ]);
  assert.deepEqual(refusalsOf(target, row({ Cpra__c: false })), [{ userKey: 'a@example.com', regulation: 'cpra', purposes: ['marketing'] }]);
  const refused = snapshot({ gdpr: { marketing: false } });
  assert.deepEqual(
    refusalsOf(target, row({ Didomi_Consents__c: refused, HasOptedOutOfEmail: true, Cpra__c: null, Calls__c: null })),
    [],
    'Didomi already knows',
  );
  assert.deepEqual(
    refusalsOf(target, row({ Didomi_Consents__c: refused, HasOptedOutOfEmail: false, Cpra__c: null, Calls__c: null })),
    [],
    'a consent granted in Salesforce is never sent: only the person can give it, in Didomi',
  );
  assert.deepEqual(refusalsOf(target, row({ Didomi_Consents__c: null, HasOptedOutOfEmail: true })), [], 'never synced by this service');
  assert.deepEqual(
    refusalsOf(target, row({ Didomi_Consents__c: snapshot({ gdpr: { marketing: true } }), Cpra__c: false, Calls__c: false })),
    [],
    'no choice in Didomi for these purposes: the fields only hold their defaults',
  );
  assert.deepEqual(refusalsOf(target, row({ Didomi_User_Id__c: null, HasOptedOutOfEmail: true })), []);
});

const API = { key: 'didomi-api-key', secret: 'didomi-api-secret-0123456789', organizationId: 'acme-corp' };

/** Waits until a whole reverse poll ran after this call. A poll makes one SOQL query (the only direct queries the
 * service makes: the sync's go through composite) and starts after the previous one finished, so once three more
 * queries arrived, the poll that made the second one queried after this call and has finished. */
async function aWholePoll(stack: Stack) {
  const n = 3;
  const queries = () => stack.emu.stats().apiCalls.byResource.query ?? 0;
  const from = queries();
  await waitFor('a whole reverse poll', () => queries() >= from + n);
}

async function setup(o: { followEmulatorClock?: boolean } = {}): Promise<{ stack: Stack; didomi: DidomiApiStub }> {
  const didomi = await startDidomiApiStub(API);
  const stack = await startStack({
    seed: { contact: false },
    followEmulatorClock: o.followEmulatorClock,
    env: {
      DIDOMI_API_URL: didomi.url,
      DIDOMI_API_KEY: API.key,
      DIDOMI_API_SECRET: API.secret,
      DIDOMI_ORGANIZATION_ID: API.organizationId,
      REVERSE_MODE: 'poll',
      REVERSE_SYNC_MS: '150',
    },
  });
  return { stack, didomi };
}

test('a refusal made in Salesforce by a person reaches Didomi once, and Didomi’s echo changes nothing', async () => {
  const { stack, didomi } = await setup();
  try {
    const [leadId, otherId] = stack.emu.seed({
      Lead: [
        { LastName: 'Rep', Company: 'Acme', Email: 'call@example.com' },
        { LastName: 'Other', Company: 'Acme', Email: 'other@example.com' },
      ],
    }).Lead;
    const t0 = Date.now() - 60_000;
    for (const email of ['call@example.com', 'other@example.com'])
      assert.equal((await stack.post(eventCreated(email, new Date(t0), { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: true } }))).status, 202);
    await stack.waitForDrain();
    const synced = stack.emu.org.get('Lead', leadId)!;
    assert.equal(synced.HasOptedOutOfEmail, false);
    await aWholePoll(stack);
    assert.equal(didomi.events.length, 0, "the service's own writes are not sent back");

    // A sales rep records, after a phone call, that the person wants no more emails.
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    await waitFor('the refusal in Didomi', () => didomi.events.length === 1);
    assert.deepEqual(didomi.events[0], {
      organizationId: 'acme-corp',
      body: { user: { organization_user_id: 'call@example.com' }, regulation: 'gdpr', consents: { purposes: [{ id: PURPOSE, enabled: false }] } },
    });
    // A rep granting consent is not something Didomi accepts from Salesforce.
    stack.emu.org.update(rep, 'Lead', otherId, { DoNotCall: false, HasOptedOutOfEmail: false });
    // Didomi's webhook for that refusal comes back like any other.
    didomi.expireTokens();
    assert.equal((await stack.post(eventCreated('call@example.com', new Date(), { purposes: { [PURPOSE]: false } }))).status, 202);
    await stack.waitForDrain();
    await aWholePoll(stack);
    assert.equal(didomi.events.length, 1, 'no loop, no second send');
    const after = stack.emu.org.get('Lead', leadId)!;
    assert.equal(after.HasOptedOutOfEmail, true);
    assert.equal(JSON.parse(String(after.Didomi_Consents__c)).purposes.gdpr[PURPOSE], false, 'the store now knows the refusal');

    // After the token expired, the next refusal logs in again; a Didomi outage delays it, never drops it.
    didomi.failNext(2);
    stack.emu.org.update(rep, 'Lead', otherId, { DoNotCall: true });
    await waitFor('the second refusal in Didomi', () => didomi.events.length === 2);
    assert.deepEqual(didomi.events[1].body.consents.purposes, [{ id: PHONE_PURPOSE, enabled: false }]);
    assert.equal(didomi.logins, 2);
    const metrics = await stack.metrics();
    assert.match(metrics, /didomi_sync_reverse_events_total\{outcome="sent"\} 2/);
    assert.match(metrics, /didomi_sync_reverse_events_total\{outcome="retry"\} [1-9]/);
  } finally {
    await stack.close();
    await didomi.close();
  }
});

test('polling keeps its watermark in the store: a refusal made while the service was stopped for an hour travels after restart', async () => {
  const { stack, didomi } = await setup({ followEmulatorClock: true });
  try {
    const [leadId] = stack.emu.seed({ Lead: [{ LastName: 'Rep', Company: 'Acme', Email: 'call@example.com' }] }).Lead;
    assert.equal((await stack.post(eventCreated('call@example.com', new Date(Date.now() - 60_000), { purposes: { [PURPOSE]: true } }))).status, 202);
    await stack.waitForDrain();
    await aWholePoll(stack);
    await stack.service!.stop();
    const rep = stack.emu.org.addUser('rep@example.com', [], true, 'Standard User');
    stack.emu.org.update(rep, 'Lead', leadId, { HasOptedOutOfEmail: true });
    stack.emu.advanceClock(3600_000); // far more than the two poll intervals a restart used to look back
    await stack.restart();
    await waitFor('the refusal in Didomi', () => didomi.events.length === 1);
    await aWholePoll(stack);
    assert.equal(didomi.events.length, 1, 'sent once');
    assert.deepEqual(didomi.events[0].body.consents.purposes, [{ id: PURPOSE, enabled: false }]);
  } finally {
    await stack.close();
    await didomi.close();
  }
});
