// Issue 11 item 8: POST /oauth/token never answers 500 to malformed HTTP Basic credentials, and
// throttles failed client authentications per source address (429 with Retry-After, RFC 6585
// section 4) so the client secret cannot be brute-forced. The clock is injected: nothing sleeps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { createService, type Service } from '../src/service.ts';
import { createLogger } from '../src/observability/logger.ts';
import { rsaKeyPair } from '../../test/support/keys.ts';

const CLIENT_ID = 'didomi-webhooks';
const SECRET = 'didomi-client-secret-0123456789';
let clock = Date.parse('2026-11-01T10:00:00Z');
let service: Service;
let url = '';
const services: Service[] = [];
after(async () => {
  for (const s of services) await s.stop();
});

async function start() {
  const config = loadConfig({
    SF_LOGIN_URL: 'http://127.0.0.1:9', // no Salesforce needed: only the token endpoint is exercised
    SF_CLIENT_ID: 'x',
    SF_USERNAME: 'x@example.com',
    SF_PRIVATE_KEY: rsaKeyPair().privateKey,
    DIDOMI_WEBHOOK_CLIENT_ID: CLIENT_ID,
    DIDOMI_WEBHOOK_CLIENT_SECRET: SECRET,
    WEBHOOK_TOKEN_SECRET: 'token-signing-secret-0123456789abcdef0123',
    SQLITE_PATH: ':memory:',
    LOG_LEVEL: 'silent',
    TRUST_PROXY_HOPS: '1', // X-Forwarded-For names the source address, so the test can speak from several
    TOKEN_MAX_FAILURES: '5',
    TOKEN_FAILURE_WINDOW_SECONDS: '60',
  });
  service = await createService(config, { logger: createLogger('silent'), now: () => clock });
  services.push(service);
  url = (await service.listen(0, '127.0.0.1')).url;
}

const token = (from: string, secret: string, basic?: string) =>
  fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': from,
      ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}),
    },
    body: new URLSearchParams(basic ? { grant_type: 'client_credentials' } : { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: secret }),
  }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as any }));

test('HTTP Basic credentials with bad percent-encoding get 401 invalid_client (JSON), never 500', async () => {
  await start();
  for (const basic of [`${CLIENT_ID}:%E0%A4%A`, `%ZZ:${SECRET}`, `${CLIENT_ID}:%`]) {
    const r = await token('198.51.100.1', '', basic);
    assert.equal(r.status, 401, basic);
    assert.equal(r.body.error, 'invalid_client', basic);
  }
  // RFC 6749 section 2.3.1: the Basic user and password are form-urlencoded; a well-encoded pair works.
  assert.equal((await token('198.51.100.1', '', `${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(SECRET)}`)).status, 200);
});

test('failed client authentications are throttled per source address: 429 with Retry-After, other addresses unaffected, lifted when the window passes', async () => {
  await start();
  const attacker = '203.0.113.7';
  for (let i = 0; i < 5; i++) assert.equal((await token(attacker, `wrong-secret-${i}-wrong-secret`)).status, 401, `failure ${i + 1}`);
  const blocked = await token(attacker, `wrong-secret-again-wrong`);
  assert.equal(blocked.status, 429);
  assert.equal(blocked.body.error, 'too_many_requests');
  assert.equal(blocked.retryAfter, '60');
  assert.equal((await token(attacker, SECRET)).status, 429, 'even the right secret waits: no oracle while throttled');
  assert.equal((await token('192.0.2.10', SECRET)).status, 200, 'Didomi, from its own address, is not affected');
  assert.equal((await token(attacker, 'x'.repeat(20), undefined)).status, 429);
  clock += 45_000;
  assert.equal((await token(attacker, SECRET)).retryAfter, '15', 'Retry-After counts down with the clock');
  clock += 15_000;
  assert.equal((await token(attacker, SECRET)).status, 200, 'lifted once the window has passed');
  // A wrong grant type is a client error, not a failed authentication: never throttled.
  for (let i = 0; i < 10; i++) {
    const r = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '192.0.2.99' },
      body: new URLSearchParams({ grant_type: 'password' }),
    });
    assert.equal(r.status, 400);
  }
});
