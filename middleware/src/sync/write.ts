// Sends record operations as sObject Collections (<= 200 records, one type each: collections.ts)
// packed 5 per /composite call, and maps each record's result to written, resent without refused
// fields (field-isolation.ts), retried or dead-lettered.
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import type { ApiError, CompositeSubrequest, CompositeSubresponse, SaveResult } from '../salesforce/client.ts';
import { classifyCode } from '../salesforce/errors.ts';
import type { SalesforceApi } from './clients.ts';
import { collectionsByType, MAX_COLLECTION } from './collections.ts';
import { MAX_ISOLATION_ROUNDS, noConsentFallback, refusedFields, withoutFields } from './field-isolation.ts';
import { MAX_HEAVY_PER_COMPOSITE } from './match.ts';
import type { FieldValues } from './project.ts';
import { unaccounted } from './result-accounting.ts';
import { sobjectOf, type RecordOp } from './work.ts';

/** Salesforce's per-record answer for a record deleted (or merged away), e.g. an update of a deleted id. */
export const ENTITY_IS_DELETED = 'ENTITY_IS_DELETED';

/** What becomes of each record operation; the engine turns these into the user's outcome. */
export interface WriteOutcomes {
  written(o: RecordOp, id: string): void;
  failed(o: RecordOp, code: string, message: string, kind: 'transient' | 'permanent', only?: FieldValues): void;
}

export interface CollectionRequest {
  sub: CompositeSubrequest;
  ops: RecordOp[];
}

/** Updates, then external-id upserts (one object and external id per collection), then deletes, as composite subrequests. */
export function packCollections(ops: RecordOp[], base: string): CollectionRequest[] {
  const groups: CollectionRequest[] = [];
  const chunk = <T>(xs: T[]) => Array.from({ length: Math.ceil(xs.length / MAX_COLLECTION) }, (_, i) => xs.slice(i * MAX_COLLECTION, (i + 1) * MAX_COLLECTION));
  for (const part of collectionsByType(
    ops.filter((o) => o.kind === 'update'),
    sobjectOf,
  )) {
    groups.push({
      ops: part,
      sub: {
        method: 'PATCH',
        url: `${base}/composite/sobjects`,
        referenceId: `u${groups.length}`,
        body: { allOrNone: false, records: part.map((o) => ({ attributes: { type: sobjectOf(o) }, id: o.id, ...o.fields })) },
      },
    });
  }
  // An upsert collection goes by one object's one external id: target records by Didomi_User_Id__c,
  // consent data model records by theirs (consent-model-sync.ts).
  const upserts = new Map<string, RecordOp[]>(); // "object/external id field" -> ops
  for (const o of ops.filter((x) => x.kind === 'upsert')) {
    const path = `${sobjectOf(o)}/${o.externalId ?? RECORD_FIELDS.userId}`;
    upserts.set(path, [...(upserts.get(path) ?? []), o]);
  }
  for (const [path, list] of upserts) {
    const object = path.split('/')[0];
    for (const part of chunk(list)) {
      groups.push({
        ops: part,
        sub: {
          method: 'PATCH',
          url: `${base}/composite/sobjects/${path}`,
          referenceId: `c${groups.length}`,
          body: { allOrNone: false, records: part.map((o) => ({ attributes: { type: object }, ...o.fields })) },
        },
      });
    }
  }
  for (const part of collectionsByType(
    ops.filter((o) => o.kind === 'delete'),
    sobjectOf,
  )) {
    groups.push({
      ops: part,
      sub: { method: 'DELETE', url: `${base}/composite/sobjects?allOrNone=false&ids=${part.map((o) => o.id).join(',')}`, referenceId: `d${groups.length}` },
    });
  }
  return groups;
}

/** Writes every operation; records refused for named fields are resent without them (up to MAX_ISOLATION_ROUNDS). */
export async function writeRecords(sf: SalesforceApi, ops: RecordOp[], out: WriteOutcomes, round = 0): Promise<void> {
  const groups = packCollections(ops, sf.base);
  const resend: RecordOp[] = [];
  for (let i = 0; i < groups.length; i += MAX_HEAVY_PER_COMPOSITE) {
    const part = groups.slice(i, i + MAX_HEAVY_PER_COMPOSITE);
    const res = await sf.composite(part.map((g) => g.sub));
    res.forEach((r, j) => applyResults(part[j].ops, r, out, round < MAX_ISOLATION_ROUNDS ? resend : null));
  }
  if (resend.length) await writeRecords(sf, resend, out, round + 1);
}

/** Maps one collection's answer onto its operations. */
export function applyResults(ops: RecordOp[], r: CompositeSubresponse, out: WriteOutcomes, resend: RecordOp[] | null) {
  const first = (Array.isArray(r.body) ? r.body[0] : r.body) as ApiError | undefined;
  if (r.httpStatusCode >= 400 || (Array.isArray(r.body) && first?.errorCode)) {
    const code = first?.errorCode ?? `HTTP_${r.httpStatusCode}`;
    for (const o of ops) out.failed(o, code, first?.message ?? '', r.httpStatusCode >= 500 ? 'transient' : classifyCode(code));
    return;
  }
  const problem = unaccounted(r, ops.length);
  if (problem) {
    for (const o of ops) out.failed(o, 'MALFORMED_RESPONSE', problem, 'transient');
    return;
  }
  (r.body as SaveResult[]).forEach((res, i) => {
    const o = ops[i];
    if (res.success) {
      out.written(o, res.id ?? o.id!);
      return;
    }
    const e = res.errors?.[0] ?? { statusCode: 'UNKNOWN_EXCEPTION', message: 'no error detail' };
    const code = e.statusCode ?? 'UNKNOWN_EXCEPTION';
    if (code === ENTITY_IS_DELETED && o.id && sobjectOf(o) === o.target.object) {
      // Deleted (or merged away) in the org since it was matched: a deletion is done; a write is retried,
      // and the retry's match no longer finds that record (its survivor is matched by Email).
      if (o.kind === 'delete') out.written(o, o.id);
      else out.failed(o, code, `${e.message ?? ''} (deleted since it was matched: matched again on retry)`, 'transient');
      return;
    }
    const kind = classifyCode(code);
    const drop =
      kind === 'permanent' && resend && o.kind !== 'delete'
        ? refusedFields(o.fields, res.errors, o.kind === 'upsert' ? [o.externalId ?? RECORD_FIELDS.userId] : [])
        : null;
    if (drop) isolate(o, drop, code, e.message ?? '', out, resend!);
    else out.failed(o, code, e.message ?? '', kind);
  });
}

/** Dead-letters only the refused fields and resends the record without them (field-isolation.ts). */
function isolate(o: RecordOp, drop: string[], code: string, message: string, out: WriteOutcomes, resend: RecordOp[]) {
  const { rest, refused } = withoutFields(o.fields, drop);
  const tried = o.fallback ?? new Set<string>();
  // A mapped field gets its no-consent value in place of the refused one (field-isolation.ts); a
  // no-consent value refused in turn is left out. Only the person's own values are dead-lettered.
  // Only the target's own records carry its mapped fields (a consent-model record has none of them).
  const fallback = sobjectOf(o) === o.target.object ? noConsentFallback(o.target, refused, tried) : {};
  const own = Object.fromEntries(Object.entries(refused).filter(([f]) => !tried.has(f)));
  const fields = Object.keys(own);
  if (fields.length) {
    const how = fields.every((f) => f in fallback) ? 'written with its no-consent value instead' : 'left out; the rest of the record is sent without it';
    out.failed(o, code, `${message} (field ${fields.join(', ')} ${how})`, 'permanent', own);
  }
  const all = { ...o.refused, ...own };
  if (Object.keys(rest).length || Object.keys(fallback).length)
    resend.push({ ...o, fields: { ...rest, ...fallback }, refused: all, fallback: new Set([...tried, ...Object.keys(fallback)]) });
  else if (o.id) o.work.written[o.id] = { ...(o.work.written[o.id] ?? {}), ...all };
}
