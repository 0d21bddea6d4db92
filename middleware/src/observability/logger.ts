// Structured JSON logs (pino). Secrets never reach a log line: known secret keys are redacted,
// and organization_user_id values are hashed unless LOG_LEVEL=debug (hashUserKey).
import { createHash } from 'node:crypto';
import { pino, type Logger, type DestinationStream } from 'pino';

const REDACT = [
  'privateKey',
  '*.privateKey',
  'access_token',
  '*.access_token',
  'accessToken',
  '*.accessToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'client_secret',
  '*.client_secret',
  'assertion',
  '*.assertion',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'DIDOMI_API_SECRET',
  '*.DIDOMI_API_SECRET',
  'apiSecret',
  '*.apiSecret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { svc: 'didomi-sync' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/** Personal identifiers (emails) are logged as a short hash unless debugging. */
export function hashUserKey(userKey: string, level: string): string {
  if (level === 'debug' || level === 'trace') return userKey;
  return 'u:' + createHash('sha256').update(userKey).digest('hex').slice(0, 12);
}

export type { Logger };
