// The scenarios of the reliability suite. Each injects a fault or an attack over real HTTP
// (org emulator fault injection, SIGKILL, a full or read-only disk, hostile requests), counts, and
// throws when a promise of the product is broken: no loss, no duplicate, no unauthorised write.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, existsSync, statSync, writeFileSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { startStack, ROOT, WEBHOOK_CLIENT_ID, WEBHOOK_CLIENT_SECRET, WEBHOOK_TOKEN_SECRET, type Stack, type StackOptions } from '../support/stack.ts';
import { eventCreated, userUpdated, PREFERENCE } from '../support/didomi-events.ts';
import { NODE_FLAGS } from '../../middleware/src/bin/node-flags.ts';
import { makeWorkload, expectedLeads, mismatches, userEmail, prng, type WorkItem } from '../support/didomi-workload.ts';
import { PURPOSE, PHONE_PURPOSE, VALUE_OFFERS, VALUE_WEEKLY } from '../support/org-fixture.ts';
import { startPgServer } from '../support/pg-server.ts';
import { pgSchema } from '../support/pg-schema.ts';
import { startDidomiApiStub } from '../support/didomi-api.ts';
import { SqliteStore, WAL_CHECKPOINT_BYTES } from '../../middleware/src/store/sqlite.ts';
import { metricSum, waitFor } from '../support/wait-for.ts';

export type Figures = Record<string, string | number>;
export interface Ctx {
  short: boolean;
  figures: Figures;
}
export interface Scenario {
  name: string;
  description: string;
  run(ctx: Ctx): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Every log line any middleware of the suite printed, for the secrets scenario (run last). */
const logs: string[] = [];
const secrets = new Set<string>([WEBHOOK_CLIENT_SECRET, WEBHOOK_TOKEN_SECRET]);
const privateKeys: string[] = [];

async function stack(o: StackOptions = {}): Promise<Stack> {
  const s = await startStack({ mode: 'child', logLevel: 'debug', onLog: (l) => logs.push(l), ...o });
  privateKeys.push(s.env.SF_PRIVATE_KEY);
  const token = s.token.bind(s);
  s.token = async () => {
    const t = await token();
    secrets.add(t);
    return t;
  };
  return s;
}

async function pendingEvents(s: Stack): Promise<number> {
  return Number(/^didomi_sync_queue_depth (\S+)/m.exec(await s.metrics())?.[1]);
}
async function acceptedTotal(s: Stack): Promise<number> {
  return [...(await s.metrics()).matchAll(/^didomi_sync_events_accepted_total\{[^}]*\} (\S+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/** Posts like Didomi: retries until acknowledged; returns when every item got a 2xx. */
async function deliver(s: Stack, items: WorkItem[], concurrency = 16, onAccepted?: (it: WorkItem) => void, onStatus?: (status: number) => void) {
  let i = 0;
  let token = await s.token().catch(() => '');
  const worker = async () => {
    while (i < items.length) {
      const it = items[i++];
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await s.post(it.body, token);
          onStatus?.(r.status);
          if (r.status < 300) break;
          if (r.status === 401) token = await s.token().catch(() => token);
        } catch {
          /* connection refused while the middleware restarts: retry */
          onStatus?.(0);
        }
        if (attempt > 2000) throw new Error('a webhook was never acknowledged');
        await sleep(25);
      }
      onAccepted?.(it);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Further middleware processes on `first`'s database and emulator. */
async function moreReplicas(first: Stack, n: number, databaseUrl: string, env: Record<string, string>): Promise<Stack[]> {
  const out: Stack[] = [];
  for (let i = 1; i <= n; i++) {
    const o = await startStack({ mode: 'child', store: 'postgres', databaseUrl, env, seed: false, onLog: (l) => logs.push(l) });
    await o.emu.close();
    // The first stack's org: its login URL, key and Pub/Sub API (change events), not the emulator this stack started and closed.
    Object.assign(o.env, { SF_PRIVATE_KEY: first.env.SF_PRIVATE_KEY, SF_LOGIN_URL: first.emu.url, INSTANCE_ID: `replica-${i}` });
    if (first.env.PUBSUB_URL) o.env.PUBSUB_URL = first.env.PUBSUB_URL;
    await o.kill('SIGKILL');
    await o.restart();
    out.push(o);
  }
  return out;
}

const count = (m: Record<string, number>, k: number | string) => {
  m[k] = (m[k] ?? 0) + 1;
};

async function duplicateCreates(s: Stack): Promise<number> {
  const counts = new Map<string, number>();
  for (const l of await s.records('Lead'))
    if (l.Didomi_User_Id__c) counts.set(l.Didomi_User_Id__c.toLowerCase(), (counts.get(l.Didomi_User_Id__c.toLowerCase()) ?? 0) + 1);
  const byEmail = new Map<string, number>();
  for (const l of await s.records('Lead')) byEmail.set(String(l.Email).toLowerCase(), (byEmail.get(String(l.Email).toLowerCase()) ?? 0) + 1);
  return [...counts.values(), ...byEmail.values()].filter((n) => n > 1).length;
}

export const scenarios: Scenario[] = [
  {
    name: 'fuzz-webhook',
    description: 'generated malformed, oversized, deeply nested, wrongly typed and hostile webhook and token requests',
    async run({ short, figures }) {
      const s = await stack({ logLevel: 'info' });
      try {
        const token = await s.token();
        const n = short ? 1000 : 10_000;
        const valid = eventCreated('fuzz@example.com', new Date(), { purposes: { [PURPOSE]: true } }) as any;
        const notDate = fc.oneof(
          fc.string().filter((x) => Number.isNaN(Date.parse(x))),
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.object(),
        );
        const body = fc.oneof(
          fc.anything().map((v) => JSON.stringify(v) ?? 'null'), // arbitrary JSON: never a valid envelope
          fc.string().map((x) => `{"type":"event.created","parameters":${x}`), // malformed JSON
          fc
            .string({ minLength: 1 })
            .filter((t) => !['event.created', 'event.updated', 'event.deleted', 'user.created', 'user.updated', 'user.deleted'].includes(t))
            .map((t) => JSON.stringify({ ...valid, type: t })),
          notDate.map((d) => JSON.stringify({ ...valid, parameters: { entity: { ...valid.parameters.entity, created_at: d } } })),
          fc
            .anything()
            .filter((u) => typeof u !== 'object' || u === null || Array.isArray(u))
            .map((u) => JSON.stringify({ ...valid, parameters: { entity: { ...valid.parameters.entity, user: u } } })),
          fc.integer({ min: 200, max: 5000 }).map((d) => '{"type":"event.created","parameters":' + '{"a":'.repeat(d) + '1' + '}'.repeat(d) + '}'),
          fc.constant(JSON.stringify({ ...valid, pad: 'x'.repeat(600 * 1024) })), // over MAX_BODY_BYTES
          fc.constant(
            JSON.stringify({
              __proto__: { polluted: true },
              constructor: { prototype: { polluted: true } },
              type: 'user.deleted',
              parameters: { entity: { id: '' } },
            }),
          ),
          fc
            .string({ minLength: 256, maxLength: 300 })
            .map((id) => JSON.stringify({ type: 'user.updated', parameters: { new_entity: { id, organization_user_id: 'x' } } })),
        );
        const before = await pendingEvents(s);
        const acceptedBefore = await acceptedTotal(s);
        let refused = 0;
        const samples = fc.sample(body, n);
        for (let i = 0; i < samples.length; i += 32) {
          await Promise.all(
            samples.slice(i, i + 32).map(async (b) => {
              const r = await fetch(`${s.url}/webhooks/didomi`, {
                method: 'POST',
                headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                body: b,
              });
              const text = await r.text();
              assert.ok(r.status >= 400 && r.status < 500, `expected 4xx, got ${r.status} for ${b.slice(0, 120)}`);
              assert.doesNotThrow(() => JSON.parse(text), `JSON error body for ${b.slice(0, 80)}`);
              refused++;
            }),
          );
        }
        const forms = fc.sample(
          fc.dictionary(fc.oneof(fc.constantFrom('grant_type', 'client_id', 'client_secret'), fc.string()), fc.string()),
          short ? 200 : 1000,
        );
        for (const f of forms) {
          const r = await fetch(`${s.url}/oauth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(f),
          });
          assert.ok(r.status === 400 || r.status === 401, `token endpoint answered ${r.status}`);
          assert.ok(((await r.json()) as any).error);
          refused++;
        }
        assert.equal(await pendingEvents(s), before, 'nothing stored');
        assert.equal(await acceptedTotal(s), acceptedBefore, 'nothing accepted');
        assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'still alive');
        assert.equal(s.child!.exitCode, null, 'no crash');
        Object.assign(figures, { attacks: refused, refused, stored: 0, crashes: 0 });
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'auth',
    description: 'missing, expired, forged, wrong-audience, alg none and replayed tokens; wrong client secrets; addresses outside DIDOMI_ALLOWED_IPS',
    async run({ figures }) {
      const s = await stack({ env: { WEBHOOK_TOKEN_TTL_SECONDS: '3', DIDOMI_ALLOWED_IPS: '35.159.1.63,127.0.0.0/8', TRUST_PROXY_HOPS: '1' } });
      try {
        const body = JSON.stringify(eventCreated('auth@example.com', new Date(), { purposes: { [PURPOSE]: true } }));
        const post = (headers: Record<string, string>) =>
          fetch(`${s.url}/webhooks/didomi`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
        const sign = (o: jwt.SignOptions, secret = WEBHOOK_TOKEN_SECRET) =>
          jwt.sign({}, secret, { algorithm: 'HS256', audience: 'didomi-consent-sync/webhooks', issuer: 'didomi-consent-sync', expiresIn: 60, ...o });
        const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ aud: 'didomi-consent-sync/webhooks', iss: 'didomi-consent-sync', exp: 9e9 })).toString('base64url')}.`;
        const rs = jwt.sign({ aud: 'didomi-consent-sync/webhooks', iss: 'didomi-consent-sync' }, s.env.SF_PRIVATE_KEY, { algorithm: 'RS256', expiresIn: 60 });
        const replay = await s.token();
        await sleep(4100); // the 3-second token expires (jsonwebtoken counts whole seconds): replaying it must fail
        const attempts: [string, Record<string, string>][] = [
          ['missing', {}],
          ['garbage', { authorization: 'Bearer not.a.token' }],
          ['basic', { authorization: `Basic ${Buffer.from(`${WEBHOOK_CLIENT_ID}:${WEBHOOK_CLIENT_SECRET}`).toString('base64')}` }],
          ['forged', { authorization: `Bearer ${sign({}, 'forged-secret-forged-secret-forged-secret')}` }],
          ['expired', { authorization: `Bearer ${sign({ expiresIn: -1 })}` }],
          ['wrong-audience', { authorization: `Bearer ${sign({ audience: 'another-service' })}` }],
          ['wrong-issuer', { authorization: `Bearer ${sign({ issuer: 'someone' })}` }],
          ['alg-none', { authorization: `Bearer ${none}` }],
          ['alg-rs256', { authorization: `Bearer ${rs}` }],
          ['replayed-after-expiry', { authorization: `Bearer ${replay}` }],
        ];
        let refused = 0;
        for (const [name, h] of attempts) {
          const r = await post(h);
          assert.equal(r.status, 401, name);
          refused++;
        }
        const outside = await post({ authorization: `Bearer ${await s.token()}`, 'x-forwarded-for': '203.0.113.9' });
        assert.equal(outside.status, 403, 'outside the allow-list');
        refused++;
        for (const [id, secret] of [
          [WEBHOOK_CLIENT_ID, 'wrong'],
          [WEBHOOK_CLIENT_ID, WEBHOOK_CLIENT_SECRET + 'x'],
          ['other', WEBHOOK_CLIENT_SECRET],
          ['', ''],
        ]) {
          const r = await fetch(`${s.url}/oauth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }),
          });
          assert.equal(r.status, 401);
          refused++;
        }
        assert.equal(await acceptedTotal(s), 0, 'nothing stored');
        // a token of its own: the scenario's tokens live 3 s, and the requests above may take longer on a busy machine
        const allowed = await post({ authorization: `Bearer ${await s.token()}`, 'x-forwarded-for': '35.159.1.63' });
        assert.equal(allowed.status, 202, "Didomi's address with a valid token is accepted");
        Object.assign(figures, { attacks: refused, refused, stored: 0, legitimateAccepted: 1 });
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'injection',
    description: 'organization_user_id values with quotes, backslashes, %, _, SOQL keywords, newlines and non-ASCII',
    async run({ figures }) {
      const s = await stack({ seed: { leadUpsert: false, contact: false } });
      try {
        const hostile = [
          "o'reilly@example.com",
          'back\\slash@example.com',
          '100%@example.com',
          'under_score@example.com',
          "x' OR Email != '@example.com",
          'zoë.ünïcødé@exämple.com',
        ];
        const byId = ['line\nbreak', "'; DELETE FROM Lead; --", 'LIKE % _ AND OR NOT'];
        const decoys = [
          'oreilly@example.com',
          'back\\\\slash@example.com',
          '1000@example.com',
          'underXscore@example.com',
          'anyone@example.com',
          'zoe.unicode@example.com',
        ];
        s.emu.seed({
          Lead: [
            ...hostile.map((e, i) => ({
              LastName: `H${i}`,
              Company: 'Inj',
              Email: e.includes(' ') || (e.includes("'") && e.includes('OR')) ? null : e,
              Didomi_User_Id__c: e.includes(' ') ? e : null,
            })),
            ...byId.map((v, i) => ({ LastName: `I${i}`, Company: 'Inj', Didomi_User_Id__c: v })),
            ...decoys.map((e, i) => ({ LastName: `D${i}`, Company: 'Inj', Email: e })),
          ],
        });
        const token = await s.token();
        for (const v of [...hostile, ...byId])
          assert.equal((await s.post(eventCreated(v, new Date(), { purposes: { [PURPOSE]: false } }), token)).status, 202, v);
        await s.waitForDrain(30_000);
        const leads = await s.records('Lead');
        const hit = leads
          .filter((l) => l.HasOptedOutOfEmail === true)
          .map((l) => l.LastName)
          .sort();
        assert.deepEqual(hit, [...hostile.map((_, i) => `H${i}`), ...byId.map((_, i) => `I${i}`)].sort(), 'exactly the right records, and only them');
        assert.equal(leads.length, hostile.length + byId.length + decoys.length, 'no record created or deleted');
        Object.assign(figures, { attacks: hostile.length + byId.length, matched: hit.length, wrongMatches: 0 });
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'crash',
    description: 'SIGKILL of the middleware at random moments during a load, restarted each time',
    async run({ short, figures }) {
      const kills = short ? 5 : 20;
      const items = makeWorkload({ events: short ? 1500 : 6000, users: short ? 300 : 1000, seed: 11 });
      const s = await stack({ env: { BATCH_WAIT_MS: '100', LEASE_MS: '3000' }, logLevel: 'info' }); // upsert mode on: records are created by the sync
      try {
        await s.emu.setFaults({ latencyMs: 20 });
        const rnd = prng(3);
        let done = false;
        let killed = 0;
        const killer = (async () => {
          while (!done && killed < kills) {
            await sleep(150 + rnd() * 600);
            if (done) break;
            await s.kill('SIGKILL');
            killed++;
            await s.restart();
          }
        })();
        let acknowledged = 0;
        await deliver(s, items, 16, () => acknowledged++);
        done = true;
        await killer;
        while (killed < kills) {
          await s.kill('SIGKILL');
          killed++;
          await s.restart();
        }
        await s.waitForDrain(120_000);
        const wrong = mismatches(await s.records('Lead'), expectedLeads(items));
        const dup = await duplicateCreates(s);
        Object.assign(figures, { accepted: acknowledged, delivered: acknowledged - wrong.length, lost: wrong.length, duplicated: dup, faults: killed });
        assert.equal(wrong.length, 0, `state mismatches: ${JSON.stringify(wrong.slice(0, 3))}`);
        assert.equal(dup, 0, 'records created twice');
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'outage',
    description: 'Salesforce down (503, then refused connections) for several (compressed) minutes',
    async run({ short, figures }) {
      const scale = 0.01; // 5 minutes -> 3 s
      const s = await stack({ env: { RETRY_BACKOFF_SCALE: String(scale), BATCH_WAIT_MS: '50' }, seed: { contact: false } });
      try {
        const retries = async () =>
          [...(await s.metrics()).matchAll(/^didomi_sync_retries_scheduled_total\{[^}]*\} (\S+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
        await s.emu.setFaults({ outage: '503' });
        const first = makeWorkload({ events: 1, users: 1, seed: 1, duplicateShare: 0, outOfOrderShare: 0 });
        await deliver(s, first);
        // 5 tries happen, whatever the machine's speed; that they fit in the first 5 minutes is the schedule's own
        // claim (retryDelayMs, unit.test.ts), so only the scaled time is reported, never asserted against the clock
        const t0 = Date.now();
        await waitFor('5 tries during the outage', async () => (await retries()) >= 4, 60_000);
        const tries = (await retries()) + 1;
        const triesSeconds = (Date.now() - t0) / 1000;
        const items = makeWorkload({ events: short ? 300 : 2000, users: 200, seed: 5, emailOf: (i) => userEmail(i + 1) });
        let acknowledged = 1;
        await deliver(s, items.slice(0, items.length / 2), 8, () => acknowledged++);
        const refused = metricSum(await s.metrics(), 'didomi_sync_salesforce_api_calls_total', { status: '0' });
        await s.emu.setFaults({ outage: 'refuse' });
        await deliver(s, items.slice(items.length / 2), 8, () => acknowledged++);
        await waitFor(
          'a refused connection met by the sync',
          async () => metricSum(await s.metrics(), 'didomi_sync_salesforce_api_calls_total', { status: '0' }) > refused,
        );
        await s.emu.setFaults({ outage: 'off' });
        await s.waitForDrain(60_000);
        const wrong = mismatches(await s.records('Lead'), expectedLeads([...first, ...items]));
        Object.assign(figures, {
          accepted: acknowledged,
          delivered: acknowledged - wrong.length,
          lost: wrong.length,
          duplicated: await duplicateCreates(s),
          tries,
          triesScaledMinutes: Math.round(triesSeconds / scale / 6) / 10,
        });
        assert.equal(wrong.length, 0, JSON.stringify(wrong.slice(0, 3)));
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'salesforce-faults',
    description: 'session revoked, API allocation exhausted then restored, 30 % row locks, slow responses near the timeout, a validation rule',
    async run({ short, figures }) {
      const s = await stack({ env: { RETRY_BACKOFF_SCALE: '0.005', BATCH_WAIT_MS: '50', SF_REQUEST_TIMEOUT_MS: '800' }, seed: { contact: false } });
      try {
        const items = makeWorkload({ events: short ? 600 : 3000, users: 300, seed: 9 });
        const rejected = userEmail(7);
        const part = (k: number) => items.slice((k * items.length) / 4, ((k + 1) * items.length) / 4);
        let faults = 0;
        s.emu.revokeSessions();
        faults++;
        await deliver(s, part(0));
        await s.emu.setFaults({ limitExhausted: true });
        faults++;
        const calls = async (status: string) => metricSum(await s.metrics(), 'didomi_sync_salesforce_api_calls_total', { status });
        const limited = await calls('403');
        await deliver(s, part(1));
        await waitFor('REQUEST_LIMIT_EXCEEDED met by the sync', async () => (await calls('403')) > limited);
        await s.emu.setFaults({ limitExhausted: false, lockRowShare: 0.3 });
        faults++;
        await deliver(s, part(2));
        await s.emu.setFaults({ lockRowShare: 0, latencyMs: 600, latencyJitterMs: 400 });
        faults++; // some calls pass the 800 ms timeout
        await s.emu.setFaults({ validationRules: [{ sobject: 'Lead', field: 'Email', value: rejected, message: 'Rejected by the org' }] });
        faults++;
        await deliver(s, part(3));
        // a change for the rejected user that is certainly newer than anything else: its write must hit the rule
        const t = await s.token();
        assert.equal(
          (await s.post(eventCreated(rejected, new Date('2030-01-01T00:00:00Z'), { purposes: { [PURPOSE]: true, 'phone_calls-Yk2LmP7q': true } }), t)).status,
          202,
        );
        const timedOut = await calls('0');
        await waitFor('a call past the timeout', async () => (await calls('0')) > timedOut, 60_000);
        await s.emu.setFaults({ latencyMs: 0, latencyJitterMs: 0 });
        await s.waitForDrain(90_000);
        const leads = await s.records('Lead');
        const expected = expectedLeads(items);
        // the rejected user's record keeps the values from before the rule; its last write is a dead letter
        const wrong = mismatches(leads, expected).filter((m) => m.user !== rejected);
        let errors: any[] = [];
        await waitFor(
          'the validation rule dead-lettered in the org',
          async () => (errors = (await s.records('Didomi_Sync_Error__c')).filter((e) => e.Error_Code__c === 'FIELD_CUSTOM_VALIDATION_EXCEPTION')).length > 0,
          60_000,
        );
        Object.assign(figures, {
          accepted: items.length,
          delivered: items.length - wrong.length,
          lost: wrong.length,
          duplicated: await duplicateCreates(s),
          faults,
          deadLetters: errors.length,
        });
        assert.equal(wrong.length, 0, JSON.stringify(wrong.slice(0, 3)));
        assert.ok(errors.length >= 1 && errors.every((e) => e.Organization_User_Id__c === rejected), 'the permanent failure is dead-lettered, and only it');
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'budget',
    description: 'API_BUDGET_SHARE of a small daily allocation: the service stays within it and keeps the rest queued',
    async run({ figures }) {
      const max = 100_000;
      const share = 0.0005; // 50 calls a day: the bucket holds 5 (at least a handful, budget.ts) and refills one call every 28.8 min
      const refillMs = 86_400_000 / (max * share);
      const s = await stack({
        env: { API_BUDGET_SHARE: String(share), BATCH_WAIT_MS: '20', HEARTBEAT_MS: '200', CONFIG_REFRESH_MS: '200' },
        emulator: { dailyApiLimit: max },
      });
      try {
        const started = Date.now();
        const calls = () => s.emu.stats().apiCalls.total;
        const waits = async () => metricSum(await s.metrics(), 'didomi_sync_salesforce_budget_waits_total');
        // housekeeping every 200 ms spends the bucket on its own: once a call is held, no token is left for the worker
        await waitFor('a call held by the budget', async () => (await waits()) > 0, 60_000);
        const items = makeWorkload({ events: 200, users: 100, seed: 2 });
        await deliver(s, items);
        // the service keeps asking and keeps being held: every ask is a moment at which it could have overspent
        const held = await waits();
        await waitFor('five more calls held by the budget after the workload arrived', async () => (await waits()) >= held + 5, 60_000);
        const m = await s.metrics();
        const used = calls();
        const elapsed = Date.now() - started;
        // bucket capacity, plus the first calls made before the allocation is known, plus what refilled meanwhile
        const allowed = 5 + 2 + Math.floor(elapsed / refillMs);
        const synced = metricSum(m, 'didomi_sync_events_synced_total');
        const queued = await pendingEvents(s);
        Object.assign(figures, { calls: used, allowed, held: await waits(), queued, lost: 0 });
        assert.ok(used <= allowed, `${used} calls with a budget of ${allowed}`);
        if (elapsed < refillMs) assert.equal(synced, 0, 'the bucket was empty before the first event arrived and nothing refilled it');
        assert.equal(queued + synced, metricSum(m, 'didomi_sync_events_accepted_total'), 'every accepted event is queued or synced: none lost');
        assert.ok(queued > 0, 'the rest waits in the queue');
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'disk',
    description: "the SQLite file's filesystem becomes full, then read-only",
    async run({ figures }) {
      const dir = join(tmpdir(), `didomi-disk-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', dir]);
      if (mount.status !== 0) throw new Error(`cannot mount a small tmpfs here: ${mount.stderr}`);
      const s = await stack({
        env: { SQLITE_PATH: join(dir, 'sync.sqlite') },
        seed: { contact: false },
        onLog: (l) => {
          logs.push(l);
          if (process.env.DEBUG_DISK && !l.includes('disk is full')) console.log(l.slice(0, 300));
        },
      });
      try {
        await s.emu.setFaults({ outage: '503' }); // keep events in the store
        const token = await s.token();
        let accepted = 0;
        let unavailable = 0;
        for (let i = 0; i < 5000 && unavailable < 5; i++) {
          const r = await s.post(
            eventCreated(`disk${i}@example.com`, new Date(), { purposes: { [PURPOSE]: true }, preferences: { CFWKNVJV: ['x'.repeat(200)] } }),
            token,
          );
          if (r.status === 202) accepted++;
          else {
            assert.equal(r.status, 503, `a full disk answers 503, got ${r.status}`);
            unavailable++;
          }
        }
        assert.ok(unavailable >= 5, 'the disk filled up');
        const queued = await pendingEvents(s);
        assert.equal(queued, accepted, 'every acknowledged event is still stored');
        execFileSync('mount', ['-o', 'remount,size=4m', dir]); // room again
        const after = await s.post(eventCreated('after@example.com', new Date(), { purposes: { [PURPOSE]: true } }), token);
        assert.equal(after.status, 202, 'room again: accepted again');
        // Read-only: the database files become immutable (ext4 refuses writes through open descriptors too, even for root;
        // a read-only remount would be refused while the files are open).
        const roDir = join(ROOT, 'data', `readonly-${process.pid}`);
        mkdirSync(roDir, { recursive: true });
        const r = await stack({ env: { SQLITE_PATH: join(roDir, 'sync.sqlite') }, seed: { contact: false } });
        let roRefused = 0;
        try {
          await r.emu.setFaults({ outage: '503' });
          const t = await r.token();
          assert.equal((await r.post(eventCreated('before@example.com', new Date(), { purposes: { [PURPOSE]: true } }), t)).status, 202);
          const files = ['sync.sqlite', 'sync.sqlite-wal', 'sync.sqlite-shm'].map((f) => join(roDir, f)).filter((f) => existsSync(f));
          execFileSync('chattr', ['+i', ...files, roDir]);
          try {
            const ro = await r.post(eventCreated('readonly@example.com', new Date(), { purposes: { [PURPOSE]: true } }), t);
            assert.equal(ro.status, 503, `a read-only database answers 503, got ${ro.status}`);
            roRefused++;
          } finally {
            execFileSync('chattr', ['-i', ...files, roDir]);
          }
          assert.equal((await r.post(eventCreated('after@example.com', new Date(), { purposes: { [PURPOSE]: true } }), t)).status, 202, 'writable again');
          assert.equal(await pendingEvents(r), 2, 'both acknowledged events stored, the refused one not');
        } finally {
          await r.close().catch(() => undefined);
          rmSync(roDir, { recursive: true, force: true });
        }
        Object.assign(figures, { accepted: accepted + 3, refused503: unavailable + roRefused, stored: queued + 3, lost: accepted - queued });
      } finally {
        await s.close().catch(() => undefined);
        spawnSync('umount', [dir]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'scale-out',
    description: 'three middleware processes on one PostgreSQL store under load, one SIGKILLed mid-run',
    async run({ short, figures }) {
      const items = makeWorkload({ events: short ? 1500 : 6000, users: short ? 500 : 2000, seed: 21 });
      const drainRate = async (replicas: number, kill: boolean) => {
        const schema = `scale_${process.pid}_${replicas}_${Date.now() % 100000}`;
        const admin = new pg.Pool({ connectionString: PG, max: 1 });
        await admin.query(`CREATE SCHEMA ${schema}`);
        const databaseUrl = `${PG}?options=-c%20search_path%3D${schema}`;
        const env = { BATCH_WAIT_MS: '50', WORKER_CONCURRENCY: '1', BATCH_MAX_USERS: '50', LEASE_MS: '3000', RETRY_BACKOFF_SCALE: '0.01' };
        const first = await stack({ store: 'postgres', databaseUrl, env, seed: { contact: false } });
        const others: Stack[] = [];
        try {
          await first.emu.setFaults({ latencyMs: 100 });
          others.push(...(await moreReplicas(first, replicas - 1, databaseUrl, env)));
          // Every replica has read its configuration (it claims nothing before) while the queue is still empty,
          // so when the outage ends they all start on the backlog together.
          for (const r of [first, ...others])
            await waitFor(`${r.env.INSTANCE_ID} configured`, async () => Number(/^didomi_sync_config_targets (\S+)/m.exec(await r.metrics())?.[1]) > 0, 60_000);
          await first.emu.setFaults({ outage: '503' }); // accept everything first, then measure the drain
          await deliver(first, items, 32);
          const t0 = Date.now();
          if (kill) {
            // Killed with a batch in flight whatever the machine's speed: the outage ends into a hold (no Salesforce
            // call answered, nothing drained), so the victim surely claims a batch; it dies holding those leases.
            const victim = others[0];
            await first.emu.setFaults({ outage: 'off', hold: true });
            const leased = async () =>
              Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.user_sync WHERE lease_owner LIKE $1`, [`${victim.env.INSTANCE_ID}:%`])).rows[0].n);
            await waitFor('the replica to kill holding a batch in flight', async () => (await leased()) > 0, 60_000);
            await victim.kill('SIGKILL');
            await first.emu.setFaults({ hold: false });
          } else await first.emu.setFaults({ outage: 'off' });
          await first.waitForDrain(180_000);
          const seconds = (Date.now() - t0) / 1000;
          const wrong = mismatches(await first.records('Lead'), expectedLeads(items));
          // one user processed by two workers at once would let an older state overwrite a newer one
          const writes = ((await (await fetch(`${first.emu.url}/__emulator/writes`)).json()) as any).writes as {
            id: string;
            fields: Record<string, unknown>;
          }[];
          const last = new Map<string, string>();
          let regressions = 0;
          for (const w of writes) {
            const at = w.fields.Didomi_Consent_Updated_At__c as string | undefined;
            if (!at) continue;
            if ((last.get(w.id) ?? '') > at) regressions++;
            last.set(w.id, at);
          }
          return { rate: Math.round(items.length / seconds), wrong: wrong.length, dup: await duplicateCreates(first), regressions };
        } finally {
          for (const o of others) await o.close().catch(() => undefined);
          await first.close();
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await admin.end();
        }
      };
      // Throughput: the same backlog drained by one replica, then by three; then three again with one SIGKILLed mid-run.
      const one = await drainRate(1, false);
      const three = await drainRate(3, false);
      const killed = await drainRate(3, true);
      Object.assign(figures, {
        accepted: items.length * 3,
        lost: one.wrong + three.wrong + killed.wrong,
        duplicated: three.dup + killed.dup,
        concurrentUserWrites: three.regressions + killed.regressions,
        eventsPerSec1: one.rate,
        eventsPerSec3: three.rate,
        eventsPerSec3Killed: killed.rate,
        faults: 1,
      });
      assert.equal(one.wrong + three.wrong + killed.wrong, 0, 'no loss');
      assert.equal(three.dup + killed.dup, 0, 'no duplicate creates');
      assert.equal(three.regressions + killed.regressions, 0, "no user's state written out of order by two workers");
      // Throughput is a figure (eventsPerSec1/3 below), not an assertion: which is faster on a shared
      // 2-core machine is decided by the machine's load, not by the product. The benchmark compares it.
    },
  },
  {
    name: 'refused-field',
    description: 'one field of a record refused (a preference value missing from a restricted picklist, a 150 kB consent snapshot), then the person withdraws',
    async run({ short, figures }) {
      const s = await stack({ env: { BATCH_WAIT_MS: '50' }, seed: { contact: false } });
      try {
        const n = short ? 60 : 300;
        const emails = Array.from({ length: n }, (_, i) => `refused${i}@example.com`);
        s.emu.seed({ Lead: emails.map((Email, i) => ({ LastName: `R${i}`, Company: 'Acme', Email, HasOptedOutOfEmail: false })) });
        const picklist = emails.filter((_, i) => i % 3 === 0); // "NEWTOPIC" is not a value of Newsletter_Topics__c
        const big = emails.filter((_, i) => i % 3 === 1); // metadata that makes Didomi_Consents__c exceed 131,072 characters
        const given = emails.map((e) => {
          const body = eventCreated(e, new Date('2026-11-01T10:00:00Z'), {
            purposes: { [PURPOSE]: true },
            preferences: { [PREFERENCE]: picklist.includes(e) ? [VALUE_WEEKLY, 'NEWTOPIC'] : [VALUE_WEEKLY] },
          }) as any;
          if (big.includes(e)) body.parameters.entity.user.metadata = { notes: 'n'.repeat(150_000) };
          return { user: e, body } as WorkItem;
        });
        const withdrawn = emails.map(
          (e) => ({ user: e, body: eventCreated(e, new Date('2026-11-01T11:00:00Z'), { purposes: { [PURPOSE]: false } }) }) as WorkItem,
        );
        await deliver(s, given);
        await s.waitForDrain(60_000);
        await deliver(s, withdrawn);
        await s.waitForDrain(60_000);
        const leads = await s.records('Lead');
        const lost = emails.filter((e) => leads.find((l) => l.Email === e)?.HasOptedOutOfEmail !== true);
        const snapshots = leads.filter((l) => emails.includes(l.Email)).map((l) => String(l.Didomi_Consents__c ?? ''));
        const badSnapshots = snapshots.filter((x) => {
          try {
            return x.length > 131_072 || !JSON.parse(x);
          } catch {
            return true;
          }
        }).length;
        let errors: any[] = [];
        await waitFor('a dead letter per refused field', async () => (errors = await s.records('Didomi_Sync_Error__c')).length >= picklist.length, 60_000);
        const refusals = ((await (await fetch(`${s.emu.url}/__emulator/rejections`)).json()) as any).rejections as { fields: string[] }[];
        Object.assign(figures, {
          sent: given.length + withdrawn.length,
          acknowledged: given.length + withdrawn.length,
          delivered: n - lost.length,
          lost: lost.length,
          deadLetters: errors.length,
          refusals: refusals.length,
          truncated: snapshots.filter((x) => x.includes('"truncated":true')).length,
          badSnapshots,
        });
        assert.equal(lost.length, 0, `withdrawals blocked: ${lost.slice(0, 3).join(', ')}`);
        assert.equal(badSnapshots, 0, 'every snapshot is valid JSON within 131,072 characters');
        assert.equal(snapshots.filter((x) => x.includes('"truncated":true')).length, big.length, 'the oversized snapshots are marked truncated');
        assert.equal(errors.length, picklist.length, 'one dead letter per refused field');
        assert.ok(
          errors.every(
            (e) => e.Error_Code__c === 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' && Object.keys(JSON.parse(e.Payload__c)).join() === 'Newsletter_Topics__c',
          ),
          'only the refused field is dead-lettered',
        );
        assert.equal(refusals.length, picklist.length, 'a refused field is not sent again with the same value');
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'short-response',
    description: 'HTTP 200 write responses that do not account for every record: empty, short, an object for a list, not JSON',
    async run({ short, figures }) {
      const s = await stack({ env: { BATCH_WAIT_MS: '50', RETRY_BACKOFF_SCALE: '0.005' }, seed: { contact: false } });
      try {
        const items = makeWorkload({ events: short ? 400 : 2000, users: short ? 100 : 400, seed: 31 });
        const users = [...new Set(items.map((it) => it.user))];
        s.emu.seed({ Lead: users.map((Email, i) => ({ LastName: `S${i}`, Company: 'Acme', Email })) });
        const modes = ['empty', 'short', 'object', 'non-json'] as const;
        const served: Record<string, number> = {};
        for (const [k, mode] of modes.entries()) {
          await s.emu.setFaults({ mangle: mode, mangleCount: 3 });
          await deliver(s, items.slice((k * items.length) / modes.length, ((k + 1) * items.length) / modes.length));
          await s.waitForDrain(60_000);
          const left = await s.emu.setFaults({ mangle: 'off', mangleCount: 0 });
          served[mode] = 3 - (left.mangle === 'off' ? 0 : left.mangleCount);
        }
        const damaged = Object.values(served).reduce((a, b) => a + b, 0);
        const wrong = mismatches(await s.records('Lead'), expectedLeads(items));
        const errors = await s.records('Didomi_Sync_Error__c');
        Object.assign(figures, {
          sent: items.length,
          acknowledged: items.length,
          damagedResponses: damaged,
          delivered: items.length - wrong.length,
          lost: wrong.length,
          deadLetters: errors.length,
        });
        assert.deepEqual(
          modes.filter((m) => !served[m]),
          [],
          `each kind of damaged response was served (${JSON.stringify(served)})`,
        );
        assert.equal(wrong.length, 0, JSON.stringify(wrong.slice(0, 3)));
        assert.equal(errors.length, 0, 'a damaged answer is transient, never a dead letter');
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'unstorable-input',
    description: 'webhooks with U+0000, unpaired surrogates or 30,000-level nesting, mixed with honest ones, on SQLite and PostgreSQL',
    async run({ short, figures }) {
      const statuses: Record<string, number> = {};
      let sent = 0;
      let honestAcked = 0;
      let lost = 0;
      for (const store of ['sqlite', 'postgres'] as const) {
        const schema = `unstorable_${process.pid}_${Date.now() % 100000}`;
        const admin = store === 'postgres' ? new pg.Pool({ connectionString: PG, max: 1 }) : null;
        await admin?.query(`CREATE SCHEMA ${schema}`);
        const s = await stack({ store, databaseUrl: `${PG}?options=-c%20search_path%3D${schema}`, env: { BATCH_WAIT_MS: '50' }, seed: { contact: false } });
        try {
          const token = await s.token();
          const post = async (text: string) => {
            const r = await fetch(`${s.url}/webhooks/didomi`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: text,
            });
            await r.arrayBuffer();
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            return r.status;
          };
          const base = JSON.stringify(eventCreated('hostile@example.com', new Date('2026-11-01T10:00:00Z'), { purposes: { [PURPOSE]: true } }));
          const meta = (m: string) => base.replace('"metadata":{}', `"metadata":${m}`);
          const hostile = [
            meta('{"n":"a\\u0000b"}'),
            meta('{"s":"\\ud800"}'),
            meta(`{"deep":${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}}`),
            base.replace('"organization_user_id":"hostile@example.com"', '"organization_user_id":"x\\u0000@example.com"'),
            base.replace('"organization_user_id":"hostile@example.com"', '"organization_user_id":"\\udc00@example.com"'),
          ];
          const rounds = short ? 4 : 20;
          const honest: string[] = [];
          for (let r = 0; r < rounds; r++) {
            const batch = Array.from({ length: 10 }, (_, i) =>
              JSON.stringify(eventCreated(`honest-${store}-${r}-${i}@example.com`, new Date('2026-11-01T10:00:00Z'), { purposes: { [PURPOSE]: false } })),
            );
            honest.push(...batch);
            // one burst: hostile and honest appends share group commits
            const res = await Promise.all([...hostile.map(post), ...batch.map(post)]);
            sent += res.length;
            assert.deepEqual(
              res.slice(0, hostile.length),
              hostile.map(() => 400),
              `${store}: every hostile webhook gets 400`,
            );
            honestAcked += res.slice(hostile.length).filter((x) => x === 202).length;
          }
          await s.waitForDrain(60_000);
          const leads = await s.records('Lead');
          lost += honest.length - leads.filter((l) => String(l.Email).startsWith(`honest-${store}-`) && l.HasOptedOutOfEmail === true).length;
        } finally {
          await s.close();
          await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await admin?.end();
        }
      }
      Object.assign(figures, {
        sent,
        honestAcknowledged: honestAcked,
        delivered: honestAcked - lost,
        lost,
        statuses: JSON.stringify(statuses).replace(/"/g, ''),
      });
      assert.equal(statuses[503] ?? 0, 0, 'never 503');
      assert.equal(honestAcked + (statuses[400] ?? 0), sent, 'honest webhooks are all acknowledged');
      assert.equal(lost, 0);
    },
  },
  {
    name: 'token-and-backfill',
    description:
      'Basic credentials with bad percent-encoding, a burst of wrong client secrets; a backfill of a gzip bomb, a folder named like a file, a corrupt gzip',
    async run({ short, figures }) {
      const s = await stack({ env: { TRUST_PROXY_HOPS: '1', TOKEN_MAX_FAILURES: '5', TOKEN_FAILURE_WINDOW_SECONDS: '600' }, seed: { contact: false } });
      const statuses: Record<string, number> = {};
      try {
        const token = async (from: string, o: { basic?: string; secret?: string }) => {
          const r = await fetch(`${s.url}/oauth/token`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-forwarded-for': from,
              ...(o.basic ? { authorization: `Basic ${Buffer.from(o.basic).toString('base64')}` } : {}),
            },
            body: new URLSearchParams({ grant_type: 'client_credentials', ...(o.secret ? { client_id: WEBHOOK_CLIENT_ID, client_secret: o.secret } : {}) }),
          });
          const body = (await r.json()) as any;
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          return { status: r.status, retryAfter: r.headers.get('retry-after'), body };
        };
        for (const basic of ['x:%E0%A4%A', '%ZZ:y', `${WEBHOOK_CLIENT_ID}:%`]) assert.equal((await token('198.51.100.1', { basic })).status, 401, basic);
        for (let i = 0; i < 5; i++) assert.equal((await token('203.0.113.9', { secret: `wrong-secret-${i}-wrong-secret` })).status, 401);
        const blocked = await token('203.0.113.9', { secret: WEBHOOK_CLIENT_SECRET });
        assert.equal(blocked.status, 429);
        assert.ok(Number(blocked.retryAfter) > 0, 'Retry-After given');
        assert.equal((await token('192.0.2.1', { secret: WEBHOOK_CLIENT_SECRET })).status, 200, 'another address is served');
      } finally {
        await s.close();
      }
      // The backfill CLI on a hostile export, with the service's 128 MB heap.
      const root = join(tmpdir(), `hostile-export-${process.pid}`);
      const dir = join(root, 'export-id=e', 'date=2026-11-22', 'users');
      mkdirSync(dir, { recursive: true });
      try {
        const user = (e: string) => JSON.stringify(userUpdated(e, new Date('2026-11-20T10:00:00Z'), { purposes: { [PURPOSE]: true } }).parameters.new_entity);
        writeFileSync(join(dir, 'part-0000.json.gz'), gzipSync(`${user('a@example.com')}\n${user('b@example.com')}\n`));
        const mb = short ? 64 : 640;
        const chunk = Buffer.alloc(1 << 20, 'a');
        await streamPipeline(
          Readable.from(
            (async function* () {
              yield Buffer.from(`${user('c@example.com')}\n{"pad":"`);
              for (let i = 0; i < mb; i++) yield chunk;
              yield Buffer.from(`"}\n${user('d@example.com')}\n`);
            })(),
          ),
          createGzip({ level: 1 }),
          createWriteStream(join(dir, 'part-0001.json.gz')),
        );
        mkdirSync(join(dir, 'part-0002.json.gz'));
        writeFileSync(join(dir, 'part-0003.json.gz'), 'not gzip at all');
        writeFileSync(join(dir, '_SUCCESS'), '');
        const env = { ...process.env, ...s.env, SQLITE_PATH: join(root, 'store.sqlite'), LOG_LEVEL: 'silent' };
        const r = spawnSync(process.execPath, [...NODE_FLAGS, join(ROOT, 'middleware/src/bin/didomi-sync.ts'), 'backfill', root], { env, encoding: 'utf8' });
        const queued = Number(/(\d+) queued/.exec(r.stdout)?.[1] ?? -1);
        Object.assign(figures, {
          badBasic500: statuses[500] ?? 0,
          tokenStatuses: JSON.stringify(statuses).replace(/"/g, ''),
          bombMB: mb,
          backfillExit: r.status ?? `signal ${r.signal}`,
          queued,
          unreadableFiles: Number(/(\d+) file\(s\) unreadable/.exec(r.stdout)?.[1] ?? 0),
        });
        assert.equal(r.status, 1, `backfill exit (stderr: ${r.stderr.slice(0, 300)})`);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
        assert.equal(queued, 4, 'the good lines of every readable file are queued');
        assert.match(r.stdout, /part-0001\.json\.gz:2: line longer than/);
        assert.match(r.stdout, /2 file\(s\) unreadable/);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'replica-race',
    description: "the same users' events posted at once to three PostgreSQL replicas while they drain, round after round",
    async run({ short, figures }) {
      // Issue 11, item 1: an inbox seq allocated before the user's row was locked could commit below a
      // done_seq another replica had already completed: acknowledged, never claimed, never written.
      // Each round every user gets three events at once (one field each, values flipping every round),
      // spread over the replicas; after the round every field must show that round's value.
      const db = await pgSchema('race');
      const env = { BATCH_WAIT_MS: '0', WORKER_CONCURRENCY: '2', BATCH_MAX_USERS: '20', LEASE_MS: '5000', RETRY_BACKOFF_SCALE: '0.01' };
      const first = await stack({ store: 'postgres', databaseUrl: db.databaseUrl, env, seed: { contact: false } });
      const others: Stack[] = [];
      try {
        others.push(...(await moreReplicas(first, 2, db.databaseUrl, env)));
        const replicas = [first, ...others];
        const users = Array.from({ length: short ? 20 : 40 }, (_, i) => `race${i}@example.com`);
        const rounds = short ? 6 : 25;
        const rnd = prng(11);
        const t0 = Date.parse('2026-06-01T00:00:00Z');
        const statuses: Record<string, number> = {};
        let sent = 0;
        let acknowledged = 0;
        let lost = 0;
        let stale = 0;
        for (let r = 0; r <= rounds; r++) {
          const on = r % 2 === 0;
          const posts = users.flatMap((u) => [
            eventCreated(u, new Date(t0 + r * 10_000 + 1), { purposes: { [PURPOSE]: on } }),
            eventCreated(u, new Date(t0 + r * 10_000 + 2), { purposes: { [PHONE_PURPOSE]: !on } }),
            eventCreated(u, new Date(t0 + r * 10_000 + 3), { preferences: { [PREFERENCE]: [on ? VALUE_OFFERS : VALUE_WEEKLY] } }),
          ]);
          await Promise.all(
            posts.map(async (body) => {
              sent++;
              const replica = replicas[Math.floor(rnd() * replicas.length)];
              for (let attempt = 0; ; attempt++) {
                const res = await replica.post(body).catch(() => ({ status: 0 }));
                count(statuses, res.status);
                if (res.status === 202) break;
                if (attempt > 400) throw new Error('a webhook was never acknowledged');
                await sleep(25);
              }
              acknowledged++;
            }),
          );
          await first.waitForDrain(60_000);
          if (r === 0) continue; // warm-up: creates the records (a lost field here could equal its default)
          const leads = new Map((await first.records('Lead')).map((l) => [String(l.Email).toLowerCase(), l]));
          for (const u of users) {
            const l = leads.get(u);
            const wrong = [l?.HasOptedOutOfEmail !== !on, l?.DoNotCall !== on, l?.Newsletter_Topics__c !== (on ? 'Offers' : 'Weekly digest')].filter(
              Boolean,
            ).length;
            lost += wrong;
            if (wrong) stale++;
          }
        }
        Object.assign(figures, {
          replicas: replicas.length,
          rounds,
          sent,
          acknowledged,
          delivered: acknowledged - lost,
          lost,
          stale,
          refused:
            sent === acknowledged
              ? Object.entries(statuses)
                  .filter(([k]) => k !== '202')
                  .reduce((n, [, v]) => n + v, 0)
              : -1,
        });
        assert.equal(lost, 0, `${lost} acknowledged events never reached Salesforce (${stale} stale user-rounds)`);
      } finally {
        for (const o of others) await o.close().catch(() => undefined);
        await first.close();
        await db.drop();
      }
    },
  },
  {
    name: 'database-loss',
    description: 'the PostgreSQL server terminating connections (57P01), SIGKILLed and restarted under load',
    async run({ short, figures }) {
      // Issue 11, item 2: a connection lost while checked out killed the process. Expected: 503 while
      // the database is away, /readyz says so, reconnection by itself, nothing acknowledged lost.
      const db = await startPgServer();
      const s = await stack({ store: 'postgres', databaseUrl: db.url, env: { LEASE_MS: '3000', BATCH_WAIT_MS: '20' }, seed: { contact: false } });
      try {
        const items = makeWorkload({ events: short ? 800 : 4000, users: short ? 200 : 800, seed: 31 });
        const statuses: Record<string, number> = {};
        let acknowledged = 0;
        let delivering = true;
        let terminated = 0;
        let readyWhileDown: { status: number; body: any } = { status: 0, body: null };
        let webhookWhileDown = 0;
        let reconnectMs = 0;
        // the last 40 % is posted only once the database is gone, so the load meets the outage whatever the machine's speed
        const early = items.slice(0, Math.floor(items.length * 0.6));
        const late = items.slice(early.length);
        let lateDelivery: Promise<void> = Promise.resolve();
        const load = (part: WorkItem[]) =>
          deliver(
            s,
            part,
            16,
            () => acknowledged++,
            (st) => count(statuses, st),
          );
        const chaos = (async () => {
          const waitAck = async (n: number) => {
            const target = acknowledged + n;
            while (acknowledged < target && delivering) await sleep(10);
          };
          for (let i = 0; i < 3; i++) {
            await waitAck(items.length / 10);
            terminated += await db.terminateBackends();
          }
          await waitAck(items.length / 10);
          await db.kill('SIGKILL');
          const ready = await fetch(`${s.url}/readyz`);
          readyWhileDown = { status: ready.status, body: await ready.json() };
          webhookWhileDown = (await s.post(eventCreated('while-down@example.com', new Date(), { purposes: { [PURPOSE]: true } }))).status;
          lateDelivery = load(late);
          await waitFor('the load meeting the outage', () => (statuses[503] ?? 0) > 0, 60_000); // away for a while: the load gets 503
          await db.start();
          const t = Date.now();
          for (let i = 0; (await fetch(`${s.url}/readyz`)).status !== 200; i++) {
            if (i > 600) throw new Error('the service did not reconnect within 60 s');
            await sleep(100);
          }
          reconnectMs = Date.now() - t;
        })();
        let exited = '';
        s.child!.once('exit', (code, signal) => (exited = `middleware exited (${code ?? signal}): crashed on the lost connection`));
        await load(early).catch((e) => {
          throw new Error(exited || (e as Error).message);
        });
        await chaos;
        await lateDelivery.catch((e) => {
          throw new Error(exited || (e as Error).message);
        });
        delivering = false;
        assert.equal(s.child!.exitCode, null, 'the middleware is still running');
        await s.waitForDrain(120_000);
        const wrong = mismatches(await s.records('Lead'), expectedLeads(items));
        Object.assign(figures, {
          sent: items.length,
          acknowledged,
          delivered: acknowledged - wrong.length,
          lost: wrong.length,
          s202: statuses[202] ?? 0,
          s503: statuses[503] ?? 0,
          other: Object.entries(statuses)
            .filter(([k]) => k !== '202' && k !== '503')
            .reduce((n, [, v]) => n + v, 0),
          terminatedConnections: terminated,
          kills: 1,
          readyzWhileDown: readyWhileDown.status,
          reconnectMs,
          crashes: s.child!.exitCode === null ? 0 : 1,
        });
        assert.equal(webhookWhileDown, 503, 'a webhook while the database is away gets 503');
        assert.equal(readyWhileDown.status, 503, '/readyz says not ready while the database is away');
        assert.notEqual(readyWhileDown.body?.checks?.store, 'ok', '/readyz names the store');
        assert.ok((statuses[503] ?? 0) > 0, 'the load met the outage');
        assert.equal(wrong.length, 0, `state mismatches: ${JSON.stringify(wrong.slice(0, 3))}`);
      } finally {
        await s.close().catch(() => undefined);
        await db.stop();
      }
    },
  },
  {
    name: 'retention',
    description: 'a long run with RETENTION_DAYS compressed to about a second: the store stays flat',
    async run({ short, figures }) {
      // Issue 11, item 6: nothing was ever deleted (about 1.5 kB on disk per event).
      let store: SqliteStore | undefined;
      const s = await startStack({
        env: { RETENTION_DAYS: '0.00001', PRUNE_EVERY_MS: '100', BATCH_WAIT_MS: '20' },
        seed: { contact: false },
        makeStore: (env) => (store = new SqliteStore(env.SQLITE_PATH)),
      });
      try {
        const db = () => (store as any).db as DatabaseSync;
        const rows = () => Number((db().prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n);
        const pageBytes = () => {
          const g = (p: string) => Number(Object.values(db().prepare(`PRAGMA ${p}`).get() as object)[0]);
          return g('page_count') * g('page_size');
        };
        const perRound = short ? 200 : 300;
        const rounds = short ? 5 : 20;
        // 20 users, all present in the first round: later growth could only come from kept events
        const items = makeWorkload({ events: perRound * rounds, users: 20, seed: 41 });
        const bytes: number[] = [];
        let walMax = 0;
        let roundBytes = 0; // the largest round's webhook bodies: what one round adds to the inbox if nothing is pruned
        for (let r = 0; r < rounds; r++) {
          const round = items.slice(r * perRound, (r + 1) * perRound);
          roundBytes = Math.max(
            roundBytes,
            round.reduce((n, it) => n + JSON.stringify(it.body).length, 0),
          );
          await deliver(s, round);
          await s.waitForDrain(60_000);
          await waitFor(`round ${r}: every inbox row pruned`, () => rows() === 0, 60_000);
          bytes.push(pageBytes());
          walMax = Math.max(walMax, statSync(s.env.SQLITE_PATH + '-wal', { throwIfNoEntry: false })?.size ?? 0);
        }
        const wrong = mismatches(await s.records('Lead'), expectedLeads(items));
        Object.assign(figures, {
          events: items.length,
          rounds,
          inboxRowsAfterEachRound: 0,
          dbBytesFirstRound: bytes[0],
          dbBytesLast: bytes.at(-1)!,
          roundBytes,
          unprunedEstimate: bytes[0] + (rounds - 1) * roundBytes,
          walBytesMax: walMax,
          lost: wrong.length,
        });
        // Freed pages are reused: the file may grow once by a round's peak (how much of a round is
        // still unpruned when it ends is timing), never with the number of rounds.
        assert.ok(
          bytes.every((b) => b <= bytes[0] + 1.5 * roundBytes),
          `the database grows with the events received: ${JSON.stringify(bytes)} (one round: ${roundBytes} bytes)`,
        );
        // The WAL restarts after each checkpoint: it stays near the threshold whatever the number of rounds
        // (the short run stays under it; the store's own test pushes 120 MB through it).
        assert.ok(walMax <= 1.5 * WAL_CHECKPOINT_BYTES, `WAL bounded by the autocheckpoint (${WAL_CHECKPOINT_BYTES} bytes): ${walMax}`);
        assert.equal(wrong.length, 0, JSON.stringify(wrong.slice(0, 3)));
      } finally {
        await s.close();
      }
    },
  },
  {
    name: 'lease-renewal',
    description: 'batches slower than LEASE_MS (slow Salesforce) on two PostgreSQL replicas',
    async run({ short, figures }) {
      // Issue 11, item 7: nothing renewed leases, so a batch slower than LEASE_MS let another replica
      // take the same users and write them a second time.
      const db = await pgSchema('lease');
      const leaseMs = 1500;
      const env = { LEASE_MS: String(leaseMs), BATCH_WAIT_MS: '200', SF_REQUEST_TIMEOUT_MS: '30000', WORKER_CONCURRENCY: '1' };
      const first = await stack({ store: 'postgres', databaseUrl: db.databaseUrl, env, seed: { contact: false } });
      const others: Stack[] = [];
      const logStart = logs.length;
      try {
        others.push(...(await moreReplicas(first, 1, db.databaseUrl, env)));
        const latencyMs = 2500; // match + write: two calls, 5 s per batch, over three leases
        await first.emu.setFaults({ latencyMs });
        // one event per user: each record must be written exactly once
        const users = Array.from({ length: short ? 30 : 120 }, (_, i) => `lease${i}@example.com`);
        const at = new Date('2026-06-01T00:00:00Z');
        const items: WorkItem[] = users.map((user) => ({
          user,
          body: eventCreated(user, at, { purposes: { [PURPOSE]: false } }),
          at: at.getTime(),
          choice: { purposes: { [PURPOSE]: false }, preferences: {} },
          duplicate: false,
        }));
        const since = Date.now();
        const t0 = Date.now();
        await deliver(first, items, 8);
        // without renewal the replicas keep taking each other's users: the queue may never drain
        const drained = await first.waitForDrain(180_000).then(
          () => true,
          () => false,
        );
        const seconds = (Date.now() - t0) / 1000;
        await first.emu.setFaults({ latencyMs: 0 });
        const writes = ((await (await fetch(`${first.emu.url}/__emulator/writes?since=${since}`)).json()) as any).writes as { id: string }[];
        const perRecord = new Map<string, number>();
        for (const w of writes) if (w.id?.startsWith('00Q')) perRecord.set(w.id, (perRecord.get(w.id) ?? 0) + 1);
        const doubleWrites = [...perRecord.values()].filter((n) => n > 1).length;
        const leasesLost = logs.slice(logStart).filter((l) => /leases (expired|lost)/.test(l)).length;
        const leads = new Map((await first.records('Lead')).map((l) => [String(l.Email).toLowerCase(), l]));
        const wrong = users.filter((u) => leads.get(u)?.HasOptedOutOfEmail !== true);
        Object.assign(figures, {
          users: items.length,
          leaseMs,
          drained: drained ? 'yes' : 'no',
          drainSeconds: Math.round(seconds * 10) / 10,
          recordsWritten: perRecord.size,
          doubleWrites,
          leasesLost,
          lost: wrong.length,
        });
        assert.ok(drained, 'the queue drained');
        assert.ok(seconds * 1000 > 2 * leaseMs, 'batches outlived the lease');
        assert.equal(doubleWrites, 0, 'users taken by a second replica while their batch was in flight');
        assert.equal(leasesLost, 0, 'leases lost');
        assert.equal(wrong.length, 0, JSON.stringify(wrong.slice(0, 3)));
      } finally {
        for (const o of others) await o.close().catch(() => undefined);
        await first.close();
        await db.drop();
      }
    },
  },
  {
    name: 'restart-during-refusals',
    description:
      'people record refusals in the org while the middleware (two PostgreSQL replicas, Change Data Capture) is SIGKILLed or stopped and restarted, with sync writes landing on the same records at once',
    async run({ short, figures }) {
      // Issue 18: a restart must lose no refusal and a sync write must hide none. Each round: (1) every replica is
      // stopped (SIGKILL, or SIGTERM every other round) and people refuse while nothing runs; (2) the replicas start
      // again and Didomi webhooks for the same people make the sync write those records at once; (3) the replica
      // holding the change event stream is SIGKILLed and people refuse again, which the other replica must send once
      // its lease (REVERSE_LEASE_MS) lapses. A kill lands only once every change event delivered so far has its
      // position saved, so a refusal sent twice is a defect, not at-least-once delivery after a crash.
      const rounds = short ? 2 : 6;
      const perPhase = short ? 4 : 10;
      const users = rounds * perPhase * 2; // each person refuses once (one purpose), so every refusal is expected exactly once
      const api = { key: 'didomi-api-key', secret: 'didomi-api-secret-restart-0123456789', organizationId: 'acme-corp' };
      secrets.add(api.secret);
      const didomi = await startDidomiApiStub(api);
      const db = await pgSchema('restart_refusals');
      const env = {
        DIDOMI_API_URL: didomi.url,
        DIDOMI_API_KEY: api.key,
        DIDOMI_API_SECRET: api.secret,
        DIDOMI_ORGANIZATION_ID: api.organizationId,
        REVERSE_LEASE_MS: '1500',
        LEASE_MS: '3000',
      };
      const first = await stack({ store: 'postgres', databaseUrl: db.databaseUrl, env, seed: { contact: false }, logLevel: 'info' });
      const replicas = [first, ...(await moreReplicas(first, 1, db.databaseUrl, env))];
      const admin = new pg.Pool({ connectionString: db.databaseUrl, max: 1 });
      const emails = Array.from({ length: users }, (_, i) => `refuser${i}@example.com`);
      const ids = first.emu.seed({ Lead: emails.map((Email, i) => ({ LastName: `R${i}`, Company: 'Acme', Email })) }).Lead;
      const rep = first.emu.org.addUser('rep@example.com', [], true, 'Standard User');
      const rnd = prng(18);
      const expected = new Map<string, string>(); // "email purpose" -> made, for each refusal a person made
      let next = 0;
      let kills = 0;
      let stops = 0;
      let syncWrites = 0;
      const leadTopic = '/data/LeadChangeEvent';
      try {
        const t0 = Date.now() - 3_600_000;
        for (const email of emails)
          assert.equal((await first.post(eventCreated(email, new Date(t0), { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: true } }))).status, 202);
        await first.waitForDrain(120_000);
        const refuse = (n: number) => {
          const made: number[] = [];
          for (let k = 0; k < n; k++, next++) {
            const purpose = rnd() < 0.5 ? PURPOSE : PHONE_PURPOSE;
            first.emu.org.update(rep, 'Lead', ids[next], purpose === PURPOSE ? { HasOptedOutOfEmail: true } : { DoNotCall: true });
            expected.set(`${emails[next]} ${purpose}`, 'made');
            made.push(next);
          }
          return made;
        };
        /** Didomi webhooks for these people (a preference, newer than what the sync wrote): the sync writes their records. */
        const syncWrite = async (s: Stack, who: number[], round: number) => {
          for (const i of who) {
            const at = new Date(t0 + (round + 1) * 60_000);
            assert.equal((await s.post(eventCreated(emails[i], at, { preferences: { [PREFERENCE]: [round % 2 ? VALUE_OFFERS : VALUE_WEEKLY] } }))).status, 202);
            syncWrites++;
          }
        };
        const sent = () =>
          didomi.events.map((e) => `${e.body.user.organization_user_id} ${e.body.consents.purposes.map((p: { id: string }) => p.id).join(',')}`);
        const allSent = () => {
          const got = new Set(sent());
          return [...expected.keys()].every((k) => got.has(k));
        };
        /** Every Lead change event so far delivered and its position saved: a kill now interrupts no batch. */
        const quiet = async () => {
          const last = first.emu.pubsub!.bus.after(leadTopic, 0n, Number.MAX_SAFE_INTEGER).at(-1)?.replayId ?? 0n;
          const r = await admin.query(`SELECT replay_id FROM reverse_position WHERE stream = 'cdc:Lead'`);
          const saved = r.rows[0]?.replay_id ? Buffer.from(r.rows[0].replay_id, 'base64').readBigUInt64BE() : -1n;
          return saved >= last;
        };
        const settle = async (what: string) => {
          await waitFor(`${what}: every refusal made so far in Didomi`, allSent, 120_000);
          for (const s of replicas) await s.waitForDrain(120_000);
          await waitFor(`${what}: the change event position saved`, quiet, 120_000);
        };
        await settle('start');
        // A refusal that never arrives ends the rounds (a timeout); the figures below then say how many were lost.
        let stopped: unknown = null;
        try {
          for (let round = 0; round < rounds; round++) {
            // (1) everything stopped; people refuse meanwhile.
            const signal = round % 2 ? 'SIGTERM' : 'SIGKILL';
            for (const s of replicas) await s.kill(signal);
            if (signal === 'SIGKILL') kills += replicas.length;
            else stops += replicas.length;
            const whileDown = refuse(perPhase);
            for (const s of replicas) await s.restart();
            // (2) sync writes on the same records as soon as the service is back.
            await syncWrite(replicas[round % replicas.length], whileDown, round);
            await settle(`round ${round} after restart`);
            // (3) the stream holder is SIGKILLed; people refuse; the other replica takes the stream over.
            const holder = String((await admin.query(`SELECT holder FROM reverse_position WHERE stream = 'cdc:Lead'`)).rows[0]?.holder ?? '');
            const victim = replicas.find((s) => holder.startsWith(s.env.INSTANCE_ID)) ?? replicas[0];
            await victim.kill('SIGKILL');
            kills++;
            const whileHolderDown = refuse(perPhase);
            const survivor = replicas.find((s) => s !== victim)!;
            await syncWrite(survivor, whileHolderDown, round);
            await waitFor(`round ${round}: refusals sent by the surviving replica`, allSent, 120_000);
            await victim.restart();
            await settle(`round ${round} after takeover`);
          }
        } catch (e) {
          stopped = e;
        }
        const got = sent();
        const counts = new Map<string, number>();
        for (const k of got) counts.set(k, (counts.get(k) ?? 0) + 1);
        const lost = [...expected.keys()].filter((k) => !counts.has(k)).length;
        const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
        const unexpected = [...counts.keys()].filter((k) => !expected.has(k)).length;
        const subscribes = first.emu.pubsub!.stats.subscribes;
        Object.assign(figures, {
          replicas: replicas.length,
          rounds,
          refusalsMade: expected.size,
          postedToDidomi: got.length,
          duplicates,
          lost,
          unexpected,
          syncWrites,
          kills,
          stops,
          subscribes,
        });
        assert.equal(lost, 0, 'every refusal a person made reached Didomi');
        assert.equal(duplicates, 0, 'no refusal was sent twice');
        assert.equal(unexpected, 0, 'nothing but the refusals people made was sent');
        if (stopped) throw stopped;
      } finally {
        await admin.end();
        for (const s of replicas.slice(1)) await s.close().catch(() => undefined);
        await first.close();
        await didomi.close();
        await db.drop();
      }
    },
  },
  {
    name: 'audit',
    description: 'npm audit of the runtime dependencies',
    async run({ figures }) {
      const r = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: ROOT, encoding: 'utf8' });
      let report: any;
      try {
        report = JSON.parse(r.stdout);
      } catch {
        figures.audit = 'unavailable';
        return;
      }
      const v = report.metadata?.vulnerabilities ?? {};
      Object.assign(figures, { high: v.high ?? 0, critical: v.critical ?? 0, total: v.total ?? 0 });
      assert.equal((v.high ?? 0) + (v.critical ?? 0), 0, 'high or critical advisories in runtime dependencies');
    },
  },
  {
    name: 'secrets-in-logs',
    description: 'every log line of the suite scanned for private keys, access tokens, client secrets and webhook tokens',
    async run({ figures }) {
      const keyBodies = privateKeys.map((k) => k.split('\n')[3]).filter(Boolean);
      const needles = [...secrets, ...keyBodies, 'PRIVATE KEY'];
      const sfToken = /00D5g000000EMUL![A-Za-z0-9_-]{10,}/;
      let hits = 0;
      for (const line of logs) {
        if (sfToken.test(line) || needles.some((n) => n && line.includes(n))) {
          hits++;
          if (hits < 3) console.log(`     leaked: ${line.slice(0, 200)}`);
        }
      }
      Object.assign(figures, { lines: logs.length, secretsChecked: needles.length + 1, leaks: hits });
      assert.ok(logs.length > 100, 'the suite produced logs to scan');
      assert.equal(hits, 0);
    },
  },
];
