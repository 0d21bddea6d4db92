// Every record sent must end written, retried or dead-lettered (issue 11). sObject Collections answer
// one result per record, in request order (reference/salesforce.md "sObject Collections"); an answer
// that does not account for every record (empty, short, an object where a list is due, not JSON)
// tells nothing about the records it leaves out, so the whole collection is a transient failure.
import type { CompositeSubresponse } from '../salesforce/client.ts';

export interface RecordResult {
  success: boolean;
  id?: string;
  errors?: { statusCode?: string; message?: string; fields?: string[] }[];
}

const isResult = (x: unknown): x is RecordResult => !!x && typeof x === 'object' && typeof (x as RecordResult).success === 'boolean';

/** Why a successful collections subresponse cannot be trusted for `sent` records, or null when it accounts for each. */
export function unaccounted(r: CompositeSubresponse, sent: number): string | null {
  if (!Array.isArray(r.body)) return `HTTP ${r.httpStatusCode} without a list of record results`;
  if (r.body.length !== sent) return `HTTP ${r.httpStatusCode} with ${r.body.length} results for ${sent} records`;
  if (!r.body.every(isResult)) return `HTTP ${r.httpStatusCode} with a result that is not a record result`;
  return null;
}
