// Finds every user's records, per target, in as few API calls as the URI limit allows: the match
// queries ride in /composite (5 a call), and their further pages come through the client's paging.
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import type { ApiError, CompositeSubrequest, QueryResult, SObjectRow } from '../salesforce/client.ts';
import { classifyCode, SalesforceError } from '../salesforce/errors.ts';
import { inChunks, inList, soqlIdent } from '../salesforce/soql.ts';
import type { SalesforceApi } from './clients.ts';
import type { Target } from './config-types.ts';
import { individualLink } from './consent-model-sync.ts';
import type { Matches } from './plan.ts';

export const MAX_HEAVY_PER_COMPOSITE = 5; // reference/salesforce.md: at most 5 collections or queries per composite

/** A target that cannot be matched: its users get a dead letter, the other targets are written. */
export type Unmatched = Map<string, { target: Target; code: string; message: string }>;

/** The SOQL that finds the records of `keys` on a target (by Didomi_User_Id__c, else by its match field). */
export function matchQueries(t: Target, keys: string[]): string[] {
  const matchField = soqlIdent(t.matchField);
  const link = individualLink(t); // IndividualId / PersonIndividualId: consent-model-sync.ts
  const converted = (t.object === 'Lead' ? ', IsConverted' : '') + (link ? `, ${link}` : '');
  return inChunks(keys, matchField === RECORD_FIELDS.userId ? 10_000 : 5_000).map((chunk) => {
    const cond =
      matchField === RECORD_FIELDS.userId
        ? `${RECORD_FIELDS.userId} IN ${inList(chunk)}`
        : `(${RECORD_FIELDS.userId} IN ${inList(chunk)} OR ${matchField} IN ${inList(chunk)})`;
    // Converted leads are matched too (IsConverted selected): they count as the person, never written (match-rules.ts).
    return `SELECT Id, ${RECORD_FIELDS.userId}${matchField === RECORD_FIELDS.userId ? '' : ', ' + matchField}${converted} FROM ${t.object} WHERE ${cond} ORDER BY Id`;
  });
}

/** Matches per target; a permanent query refusal adds its target to `unmatched` instead of failing the batch. */
export async function matchRecords(sf: SalesforceApi, targets: Target[], keys: string[], unmatched: Unmatched): Promise<Matches> {
  const subs: { sub: CompositeSubrequest; target: Target }[] = [];
  for (const t of targets)
    for (const soql of matchQueries(t, keys))
      subs.push({ target: t, sub: { method: 'GET', url: `${sf.base}/query?q=${encodeURIComponent(soql)}`, referenceId: `q${subs.length}` } });
  const out: Matches = new Map();
  for (const t of targets) out.set(t.object, new Map());
  for (let i = 0; i < subs.length; i += MAX_HEAVY_PER_COMPOSITE) {
    const part = subs.slice(i, i + MAX_HEAVY_PER_COMPOSITE);
    const res = await sf.composite(part.map((p) => p.sub));
    for (const [j, r] of res.entries()) {
      const { target } = part[j];
      if (unmatched.has(target.object)) continue;
      if (r.httpStatusCode >= 400) {
        const err = (Array.isArray(r.body) ? r.body[0] : r.body) as ApiError | undefined;
        const code = err?.errorCode ?? 'QUERY_FAILED';
        const message = `match query on ${target.object}: ${err?.message ?? ''}`;
        // A permanent refusal (INVALID_FIELD: a field made unreadable since the last describe) stops this target only.
        if (r.httpStatusCode < 500 && classifyCode(code) === 'permanent') {
          unmatched.set(target.object, { target, code, message });
          out.delete(target.object);
          continue;
        }
        throw new SalesforceError(r.httpStatusCode, code, message);
      }
      const byKey = out.get(target.object)!;
      for (const rec of await sf.allPages(r.body as QueryResult<SObjectRow>)) {
        for (const v of new Set([rec[RECORD_FIELDS.userId], rec[target.matchField]])) {
          if (typeof v !== 'string' || !v) continue;
          const k = v.toLowerCase();
          const list = byKey.get(k) ?? [];
          if (!list.some((x) => x.Id === rec.Id)) list.push(rec);
          byKey.set(k, list);
        }
      }
    }
  }
  return out;
}
