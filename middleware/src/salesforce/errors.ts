// Classification of Salesforce failures (reference/salesforce.md "Errors the middleware must classify").

/** Retry later, keep the work: network, timeouts, 5xx, row locks, API limit, session trouble. */
export const TRANSIENT_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'REQUEST_LIMIT_EXCEEDED',
  'SERVER_UNAVAILABLE',
  'INVALID_SESSION_ID',
  'UNKNOWN_EXCEPTION',
  'DUPLICATE_VALUE', // an external-id race with another writer: re-read and retry
  'PROCESSING_HALTED',
  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  'QUERY_TIMEOUT',
  'TXN_SECURITY_NO_ACCESS_TIMEOUT',
]);

export type ErrorKind = 'transient' | 'permanent';

export function classifyCode(code: string): ErrorKind {
  return TRANSIENT_CODES.has(code) ? 'transient' : 'permanent';
}

export function classifyStatus(status: number, code?: string): ErrorKind {
  if (code) return classifyCode(code);
  if (status >= 500 || status === 429 || status === 408) return 'transient';
  if (status === 401 || status === 403) return 'transient';
  return 'permanent';
}

/** A failure of a whole request (not of one record). */
export class SalesforceError extends Error {
  readonly status: number;
  readonly code: string;
  readonly kind: ErrorKind;
  constructor(status: number, code: string, message: string, kind?: ErrorKind) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.kind = kind ?? classifyStatus(status, code);
  }
}

/** The JWT bearer token request failed: a configuration problem (key, consumer key, user, audience). */
export class SalesforceAuthError extends SalesforceError {}
