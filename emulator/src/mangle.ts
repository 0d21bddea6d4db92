// Test-only fault: an HTTP 200 answer to a record write that does not account for every record, as
// a proxy, a gateway or an incident could deliver it. Salesforce documents no such response; the
// fault exists so the middleware can prove that every record it sent ends written, retried or
// dead-lettered. Records left unaccounted for are not written, so a client that takes the silence
// for success leaves the org wrong, visibly.
//   empty:    {"compositeResponse": []} (collections: []), nothing written
//   short:    the last record of each collection is neither written nor answered
//   object:   an object where the list of results is due, nothing written
//   non-json: an HTML page with status 200, nothing written
export type MangleMode = 'off' | 'empty' | 'short' | 'object' | 'non-json';
export const MANGLE_MODES: MangleMode[] = ['off', 'empty', 'short', 'object', 'non-json'];

const isWrite = (s: any) => s?.method !== 'GET' && /\/composite\/sobjects/.test(String(s?.url ?? ''));

/** Does this request write records through sObject Collections (directly or inside /composite)? */
export function writesRecords(resource: string, method: string, body: unknown): boolean {
  if (resource === 'collections') return method !== 'GET';
  if (resource !== 'composite') return false;
  const subs = (body as { compositeRequest?: unknown })?.compositeRequest;
  return Array.isArray(subs) && subs.some(isWrite);
}

const dropLast = (b: any) => (Array.isArray(b?.records) && b.records.length ? { ...b, records: b.records.slice(0, -1) } : b);

/**
 * Answers a write request damaged: `run` dispatches a (possibly trimmed) request body to the org
 * and returns its normal response body. The result is a JSON value, or a string sent as-is.
 */
export function mangled(mode: Exclude<MangleMode, 'off'>, resource: string, body: any, run: (body: any) => any): unknown {
  if (mode === 'non-json') return '<html><body>Service temporarily unavailable</body></html>';
  if (mode === 'short') {
    if (resource === 'collections') return run(dropLast(body));
    return run({ ...body, compositeRequest: body.compositeRequest.map((s: any) => (isWrite(s) ? { ...s, body: dropLast(s.body) } : s)) });
  }
  if (resource === 'collections') return mode === 'empty' ? [] : { results: 'unavailable' };
  if (mode === 'empty') return { compositeResponse: [] };
  return { compositeResponse: body.compositeRequest.map((s: any) => ({ referenceId: s.referenceId, httpStatusCode: 200, body: { results: 'unavailable' } })) };
}
