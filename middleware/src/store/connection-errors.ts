// Errors that mean the database connection is gone (not a bad query): the stores discard the
// connection and the service answers 503 until it is back (issue 11 item 2).
/** A lost or refused database connection (SQLSTATE classes 08 and 57, or the socket's own errors). */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && (code.startsWith('57') || code.startsWith('08'))) return true;
  return /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|not queryable/i.test((e as Error)?.message ?? '');
}
