// Test helpers: an RSA key pair, a JWT bearer assertion signed independently of the emulator, and a started emulator.
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startEmulator, type EmulatorOptions, type Emulator } from '../src/index.ts';

export const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
export const CONSUMER_KEY = 'TEST_CONSUMER_KEY';
export const USERNAME = 'integration@example.com';

export function assertion(claims: Record<string, unknown> = {}, key = keys.privateKey, alg: jwt.Algorithm = 'RS256'): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign({ iss: CONSUMER_KEY, sub: USERNAME, aud: 'https://login.salesforce.com', exp: now + 120, ...claims }, key, { algorithm: alg });
}

export async function start(opts: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ publicKey: keys.publicKey, consumerKey: CONSUMER_KEY, username: USERNAME, ...opts });
}

export async function token(emu: Emulator, a = assertion()): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: a }),
  });
  return { status: res.status, body: await res.json() };
}

/** A minimal REST client bound to one session. */
export async function client(emu: Emulator, version = '66.0') {
  return clientFor(emu, USERNAME, version);
}

/** The same client for another user of the org. */
export async function clientFor(emu: Emulator, username: string, version = '66.0') {
  const t = await token(emu, assertion({ sub: username }));
  if (t.status !== 200) throw new Error(JSON.stringify(t.body));
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${emu.url}/services/data/v${version}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.body.access_token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return { token: t.body.access_token as string, call, query: (q: string) => call('GET', `/query?q=${encodeURIComponent(q)}`) };
}
