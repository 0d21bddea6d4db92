// The HTTP surface over real HTTP: token endpoint, webhook auth, validation, durable accept,
// duplicates, limits, store outage, health, readiness and metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import jwt from 'jsonwebtoken';
import { startStack, WEBHOOK_CLIENT_ID, WEBHOOK_CLIENT_SECRET, WEBHOOK_TOKEN_SECRET, type Stack } from '../../test/support/stack.ts';
import { eventCreated, PURPOSE } from '../../test/support/didomi-events.ts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, verifyWebhookToken } from '../src/http/oauth.ts';
import type { Config } from '../src/config.ts';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => {
  await s.close();
});

const form = (o: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(o),
});
// The store holds its SQLite file exclusively: count through its own connection.
const inboxCount = () => (((s.service!.store as any).db as DatabaseSync).prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n;

test('POST /oauth/token: client credentials in the form body or HTTP Basic (RFC 6749 4.4)', async () => {
  const r1 = await fetch(
    `${s.url}/oauth/token`,
    form({ grant_type: 'client_credentials', client_id: WEBHOOK_CLIENT_ID, client_secret: WEBHOOK_CLIENT_SECRET }),
  );
  const b1 = (await r1.json()) as any;
  assert.equal(r1.status, 200);
  assert.equal(b1.token_type, 'Bearer');
  assert.ok(b1.expires_in > 0 && b1.expires_in <= 3600);
  const basic = Buffer.from(`${WEBHOOK_CLIENT_ID}:${WEBHOOK_CLIENT_SECRET}`).toString('base64');
  const r2 = await fetch(`${s.url}/oauth/token`, {
    ...form({ grant_type: 'client_credentials' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
  });
  assert.equal(r2.status, 200);
  const bad = await fetch(
    `${s.url}/oauth/token`,
    form({ grant_type: 'client_credentials', client_id: WEBHOOK_CLIENT_ID, client_secret: 'wrong-secret-wrong-secret' }),
  );
  assert.equal(bad.status, 401);
  assert.equal(((await bad.json()) as any).error, 'invalid_client');
  const grant = await fetch(`${s.url}/oauth/token`, form({ grant_type: 'password', client_id: WEBHOOK_CLIENT_ID, client_secret: WEBHOOK_CLIENT_SECRET }));
  assert.equal(grant.status, 400);
  assert.equal(((await grant.json()) as any).error, 'unsupported_grant_type');
});

test('POST /webhooks/didomi refuses missing, forged, expired, wrong-audience and alg:none tokens with 401; nothing stored', async () => {
  const before = inboxCount();
  const body = eventCreated('auth@example.com', new Date(), { purposes: { [PURPOSE]: true } });
  const sign = (o: jwt.SignOptions, secret = WEBHOOK_TOKEN_SECRET) =>
    jwt.sign({}, secret, { algorithm: 'HS256', audience: TOKEN_AUDIENCE, issuer: TOKEN_ISSUER, expiresIn: 60, ...o });
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url')}.`;
  const tokens = ['', 'not-a-jwt', sign({}, 'another-secret-another-secret-another'), sign({ expiresIn: -10 }), sign({ audience: 'someone-else' }), none];
  for (const t of tokens) {
    const res = await fetch(`${s.url}/webhooks/didomi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 401, `token ${t.slice(0, 20)}`);
    assert.equal(((await res.json()) as any).error, 'invalid_token');
  }
  assert.equal(inboxCount(), before);
});

test('a webhook token verified before is refused once it expires, and a forged or tampered one never passes (verifications are remembered, issue 17)', () => {
  const config = { WEBHOOK_TOKEN_SECRET } as Config;
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = () => now;
  const s0 = now / 1000;
  const sign = (secret = WEBHOOK_TOKEN_SECRET) =>
    jwt.sign({ iat: s0, exp: s0 + 60 }, secret, { algorithm: 'HS256', audience: TOKEN_AUDIENCE, issuer: TOKEN_ISSUER });
  const token = sign();
  const [h, p, sig] = token.split('.');
  const tampered = `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
  const forged = sign('another-secret-another-secret-another');
  for (let i = 0; i < 2; i++) {
    assert.equal(verifyWebhookToken(config, `Bearer ${token}`, clock), null);
    assert.match(verifyWebhookToken(config, `Bearer ${tampered}`, clock) ?? '', /signature/);
    assert.match(verifyWebhookToken(config, `Bearer ${forged}`, clock) ?? '', /signature/);
  }
  now += 59_000;
  assert.equal(verifyWebhookToken(config, `Bearer ${token}`, clock), null);
  now += 1_000;
  assert.match(verifyWebhookToken(config, `Bearer ${token}`, clock) ?? '', /expired/);
  assert.match(
    verifyWebhookToken({ WEBHOOK_TOKEN_SECRET: `${WEBHOOK_TOKEN_SECRET}-rotated` } as Config, `Bearer ${token}`, () => s0 * 1000) ?? '',
    /signature/,
  );
});

test('bad payloads get 400 naming the problem, 413 when too large, 415 when not JSON; nothing stored', async () => {
  const before = inboxCount();
  const token = await s.token();
  const post = (body: string, type = 'application/json') =>
    fetch(`${s.url}/webhooks/didomi`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body });
  const cases: [string, number, RegExp][] = [
    ['{"type":"event.created"', 400, /malformed_json/],
    ['[]', 400, /invalid_payload/],
    ['{"type":"event.created","parameters":{"entity":{"id":"e1","created_at":"not a date","user":{"organization_user_id":"x"}}}}', 400, /created_at/],
    ['{"type":"nope","parameters":{}}', 400, /type/],
    [
      JSON.stringify({ type: 'event.created', parameters: { entity: { id: 'e', created_at: new Date().toISOString(), user: {} } } }),
      400,
      /organization_user_id/,
    ],
    [JSON.stringify({ pad: 'x'.repeat(600 * 1024) }), 413, /too_large/],
  ];
  for (const [body, status, re] of cases) {
    const res = await post(body);
    const text = await res.text();
    assert.equal(res.status, status, text);
    assert.match(text, re);
    assert.equal(res.headers.get('content-type')?.startsWith('application/json'), true);
  }
  assert.equal((await post('type=event.created', 'application/x-www-form-urlencoded')).status, 415);
  assert.equal(inboxCount(), before);
});

test('202 only once stored (the row is in the database when 202 arrives); a redelivery is acknowledged and not stored twice', async () => {
  const body = eventCreated('durable@example.com', new Date(), { purposes: { [PURPOSE]: true } });
  const before = inboxCount();
  const r1 = await s.post(body);
  assert.equal(r1.status, 202);
  assert.deepEqual(r1.body, { status: 'accepted', duplicate: false });
  assert.equal(inboxCount(), before + 1);
  const r2 = await s.post(JSON.parse(JSON.stringify(body)));
  assert.equal(r2.status, 202);
  assert.equal(r2.body.duplicate, true);
  assert.equal(inboxCount(), before + 1);
});

test('the 202 carries no ETag: nobody revalidates a webhook acknowledgement, and hashing it cost CPU on every accept (issue 17)', async () => {
  const token = await s.token();
  const body = JSON.stringify(eventCreated('etag@example.com', new Date(), { purposes: { [PURPOSE]: true } }));
  const post = () =>
    fetch(`${s.url}/webhooks/didomi`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  // The same answer, headers included, as res.json gave before the acknowledgements were serialised once.
  for (const duplicate of [false, true]) {
    const res = await post();
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('etag'), null);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    const text = await res.text();
    assert.equal(text, JSON.stringify({ status: 'accepted', duplicate }));
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)));
  }
});

test('health, readiness and Prometheus metrics', async () => {
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  const ready = await fetch(`${s.url}/readyz`);
  assert.equal(ready.status, 200, await ready.clone().text());
  assert.deepEqual(((await ready.json()) as any).checks, { store: 'ok', salesforce: 'ok' });
  const m = await s.metrics();
  for (const name of [
    'didomi_sync_events_accepted_total',
    'didomi_sync_events_rejected_total',
    'didomi_sync_queue_depth',
    'didomi_sync_salesforce_api_calls_total',
    'didomi_sync_end_to_end_seconds_bucket',
    'didomi_sync_batch_users_bucket',
    'didomi_sync_salesforce_api_usage_max',
  ]) {
    assert.match(m, new RegExp(`^${name}`, 'm'), name);
  }
  assert.equal((await fetch(`${s.url}/nope`)).status, 404);
});

test('the webhook answers 503 (so Didomi retries) when the store cannot write, never 2xx', async () => {
  const st = await startStack();
  try {
    const token = await st.token();
    // The database stops accepting writes underneath the service (as with a read-only or full disk).
    (st.service!.store as any).db.exec('PRAGMA query_only = 1');
    const res = await st.post(eventCreated('full@example.com', new Date(), { purposes: { [PURPOSE]: true } }), token);
    assert.equal(res.status, 503);
    assert.equal(res.body.error, 'unavailable');
    (st.service!.store as any).db.exec('PRAGMA query_only = 0');
    assert.equal((await st.post(eventCreated('full@example.com', new Date(), { purposes: { [PURPOSE]: true } }), token)).status, 202);
  } finally {
    await st.close();
  }
});
