// POST /oauth/token: OAuth 2.0 client credentials (RFC 6749 section 4.4) for Didomi's webhook
// integration, whose config carries {url, client_id, client_secret} (reference/didomi.md).
// Answers a short-lived HS256 JWT; secrets are compared in constant time.
import { createHash, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';
import express, { type Router } from 'express';
import jwt from 'jsonwebtoken';
import type { Config } from '../config.ts';
import type { Metrics } from '../observability/metrics.ts';
import { FailureThrottle } from './failure-throttle.ts';

export const TOKEN_AUDIENCE = 'didomi-consent-sync/webhooks';
export const TOKEN_ISSUER = 'didomi-consent-sync';

const digest = (s: string) => createHash('sha256').update(s).digest();
export const safeEqual = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function oauthError(res: express.Response, status: number, error: string, description: string) {
  res.status(status).set('cache-control', 'no-store').json({ error, error_description: description });
}

/** RFC 6749 section 2.3.1: Basic credentials are percent-encoded; a bad escape is a malformed credential, not a crash. */
function formDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

export function oauthRouter(config: Config, metrics: Metrics, now: () => number = Date.now): Router {
  const r = express.Router();
  const throttle = new FailureThrottle(config.TOKEN_MAX_FAILURES, config.TOKEN_FAILURE_WINDOW_SECONDS * 1000, now);
  r.post('/oauth/token', express.urlencoded({ extended: false, limit: '8kb' }), express.json({ limit: '8kb' }), (req, res) => {
    const address = req.ip ?? '';
    const wait = throttle.retryAfter(address);
    if (wait) {
      metrics.eventsRejected.inc({ reason: 'token_throttled' });
      res.set('retry-after', String(wait));
      return oauthError(res, 429, 'too_many_requests', 'too many failed client authentications from this address; retry later');
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    let clientId = typeof body.client_id === 'string' ? body.client_id : undefined;
    let secret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      const id = i < 0 ? null : formDecode(decoded.slice(0, i));
      const pass = i < 0 ? null : formDecode(decoded.slice(i + 1));
      if (id === null || pass === null) {
        throttle.failed(address);
        metrics.eventsRejected.inc({ reason: 'token_client' });
        return oauthError(res, 401, 'invalid_client', 'malformed Basic credentials');
      }
      clientId = id;
      secret = pass;
    }
    if (body.grant_type !== 'client_credentials') {
      metrics.eventsRejected.inc({ reason: 'token_grant' });
      return oauthError(res, 400, body.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
    }
    const idOk = safeEqual(clientId ?? '', config.DIDOMI_WEBHOOK_CLIENT_ID);
    const secretOk = safeEqual(secret ?? '', config.DIDOMI_WEBHOOK_CLIENT_SECRET);
    if (!clientId || !secret || !idOk || !secretOk) {
      throttle.failed(address);
      metrics.eventsRejected.inc({ reason: 'token_client' });
      res.set('www-authenticate', 'Basic realm="didomi-consent-sync"');
      return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    }
    const ttl = config.WEBHOOK_TOKEN_TTL_SECONDS;
    const token = jwt.sign({ scope: 'webhooks' }, webhookKey(config.WEBHOOK_TOKEN_SECRET).key, {
      algorithm: 'HS256',
      expiresIn: ttl,
      audience: TOKEN_AUDIENCE,
      issuer: TOKEN_ISSUER,
      subject: clientId,
    });
    res.set('cache-control', 'no-store').json({ access_token: token, token_type: 'Bearer', expires_in: ttl });
  });
  return r;
}

/**
 * The HS256 secret as a KeyObject, made once: given a string, jsonwebtoken first tries to read it as
 * a public key on every call (crypto.createPublicKey throws, then it falls back), which cost ~17 % of
 * the CPU per accepted webhook in a profile (issue 17). Same bytes, same signatures. With it, the
 * tokens it verified (see verifyWebhookToken).
 */
let cachedKey: { secret: string; key: KeyObject; verified: Map<string, number> } | null = null;
function webhookKey(secret: string) {
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')), verified: new Map() };
  return cachedKey;
}
const MAX_REMEMBERED = 1000;

/**
 * Verifies a webhook bearer token: HS256 only (never `none`), our audience and issuer, not expired.
 * Didomi sends the same token with every webhook until it expires, and verifying it (base64, JSON,
 * HMAC, claims) was ~9 % of the CPU per accepted webhook (issue 17): a token that passed is
 * remembered, by its SHA-256 and for its secret, until its `exp`; the same bytes under the same key
 * give the same result, so only the clock is checked again (as jsonwebtoken does: expired at `exp`).
 */
export function verifyWebhookToken(config: Config, header: string | undefined, now: () => number = Date.now): string | null {
  const m = /^Bearer\s+([A-Za-z0-9_\-.]+)$/.exec(header ?? '');
  if (!m) return 'missing bearer token';
  const { key, verified } = webhookKey(config.WEBHOOK_TOKEN_SECRET);
  const clock = Math.floor(now() / 1000);
  const id = hash('sha256', m[1], 'base64'); // (one-shot: a Hash object per webhook cost more than the hashing)
  const exp = verified.get(id);
  if (exp !== undefined) {
    if (clock < exp) return null;
    verified.delete(id); // verify again: it answers why (jwt expired)
  }
  try {
    const payload = jwt.verify(m[1], key, { algorithms: ['HS256'], audience: TOKEN_AUDIENCE, issuer: TOKEN_ISSUER, clockTimestamp: clock });
    const tokenExp = typeof payload === 'object' ? payload.exp : undefined;
    if (typeof tokenExp === 'number') {
      if (verified.size >= MAX_REMEMBERED) verified.clear();
      verified.set(id, tokenExp);
    }
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
