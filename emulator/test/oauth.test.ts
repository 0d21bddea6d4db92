// OAuth 2.0 JWT bearer flow, checked against reference/salesforce.md ("OAuth 2.0 JWT bearer flow"),
// with assertions signed independently (jsonwebtoken) of the emulator's verifier.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { start, token, assertion, keys, USERNAME } from './support.ts';
import type { Emulator } from '../src/index.ts';

let emu: Emulator;
before(async () => {
  emu = await start();
  emu.org.addUser('inactive@example.com', ['Didomi_Sync_Integration'], false);
  emu.org.addUser('not-preauthorized@example.com', ['Didomi_Sync_Admin']);
});
after(async () => {
  await emu.close();
});

test('success body: access_token, scope, instance_url (its own URL), id, token_type; no refresh_token or expires_in', async () => {
  const r = await token(emu);
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body).sort(), ['access_token', 'id', 'instance_url', 'scope', 'token_type']);
  assert.equal(r.body.instance_url, emu.url);
  assert.equal(r.body.token_type, 'Bearer');
  assert.match(r.body.id, /\/id\/00D\w+\/005\w+$/);
});

test('error bodies: HTTP 400 {error, error_description} for each failure', async () => {
  const other = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string, string][] = [
    [assertion({ iss: 'WRONG' }), 'invalid_client_id', 'client identifier invalid'],
    [assertion({}, other.privateKey), 'invalid_grant', 'invalid assertion'],
    [assertion({ aud: 'https://evil.example.com' }), 'invalid_grant', 'audience is invalid'],
    [assertion({ exp: now - 10 }), 'invalid_grant', 'expired authorization code'],
    [assertion({ exp: Date.now() + 60_000 }), 'invalid_grant', 'invalid assertion'], // exp in milliseconds
    [assertion({ sub: 'nobody@example.com' }), 'invalid_grant', "user hasn't approved this consumer"],
    [assertion({ sub: 'inactive@example.com' }), 'invalid_grant', 'inactive user'],
    // the app pre-authorizes the integration permission set only (Salesforce Help: the JWT flow needs prior approval)
    [assertion({ sub: 'not-preauthorized@example.com' }), 'invalid_grant', "user hasn't approved this consumer"],
    [
      jwt.sign({ iss: 'TEST_CONSUMER_KEY', sub: USERNAME, aud: 'https://login.salesforce.com', exp: now + 60 }, 'a-shared-secret', { algorithm: 'HS256' }),
      'invalid_grant',
      'invalid assertion',
    ],
    ['garbage', 'invalid_grant', 'invalid assertion'],
  ];
  for (const [a, error, description] of cases) {
    const r = await token(emu, a);
    assert.equal(r.status, 400, description);
    assert.deepEqual(r.body, { error, error_description: description });
  }
  const noExp = jwt.sign({ iss: 'TEST_CONSUMER_KEY', sub: USERNAME, aud: 'https://login.salesforce.com' }, keys.privateKey, { algorithm: 'RS256' });
  assert.deepEqual((await token(emu, noExp)).body, { error: 'invalid_grant', error_description: 'invalid assertion' });
  const res = await fetch(`${emu.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=password&username=x&password=y',
  });
  assert.deepEqual(await res.json(), { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
});

test('aud: login.salesforce.com, test.salesforce.com or a configured Experience Cloud site URL; never the My Domain / instance URL (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration")', async () => {
  const site = await start({ audiences: ['https://acme.my.site.com/customers'] });
  try {
    for (const aud of ['https://login.salesforce.com', 'https://test.salesforce.com', 'https://acme.my.site.com/customers'])
      assert.equal((await token(site, assertion({ aud }))).status, 200, aud);
    for (const aud of [site.url, 'https://acme.my.salesforce.com', ['https://login.salesforce.com', 'https://test.salesforce.com']])
      assert.deepEqual((await token(site, assertion({ aud }))).body, { error: 'invalid_grant', error_description: 'audience is invalid' }, String(aud));
  } finally {
    await site.close();
  }
});

test('expired and revoked sessions get 401 INVALID_SESSION_ID', async () => {
  // the emulator's clock is frozen and moved by the test: a slow machine cannot expire the session early or late
  const frozenAt = Date.now();
  const clocked = await start({ sessionSeconds: 1, now: () => frozenAt });
  try {
    const r = await token(clocked);
    const call = () => fetch(`${clocked.url}/services/data/v66.0/limits`, { headers: { authorization: `Bearer ${r.body.access_token}` } });
    assert.equal((await call()).status, 200);
    clocked.advanceClock(999);
    assert.equal((await call()).status, 200, 'still valid 1 ms before the end of its 1 s');
    const moved = await fetch(`${clocked.url}/__emulator/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":1}' });
    assert.deepEqual(await moved.json(), { now: frozenAt + 1000 }, 'the control API moves the clock too');
    const expired = await call();
    assert.equal(expired.status, 401);
    assert.deepEqual(await expired.json(), [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
  } finally {
    await clocked.close();
  }
  const r2 = await token(emu);
  assert.equal((await fetch(`${emu.url}/services/data/v66.0/limits`, { headers: { authorization: `Bearer ${r2.body.access_token}` } })).status, 200);
  emu.revokeSessions();
  const revoked = await fetch(`${emu.url}/services/data/v66.0/limits`, { headers: { authorization: `Bearer ${r2.body.access_token}` } });
  assert.equal(revoked.status, 401);
  assert.equal((await fetch(`${emu.url}/services/data/v66.0/limits`)).status, 401, 'no token at all');
});
