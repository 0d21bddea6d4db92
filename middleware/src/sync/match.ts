// Finds every user's records, per target, in as few API calls as the URI limit allows: the match
// queries ride in /composite (5 a call), and their further pages come through the client's paging.
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import type { ApiError, CompositeSubrequest, QueryResult, SObjectRow } from '../salesforce/client.ts';
import { classifyCode, SalesforceError } from '../salesforce/errors.ts';
import { inList, MAX_LITERAL, soqlIdent, soqlString } from '../salesforce/soql.ts';
import type { SalesforceApi } from './clients.ts';
import type { Target } from './config-types.ts';
import { individualLink } from './consent-model-sync.ts';
import type { Matches } from './plan.ts';

export const MAX_HEAVY_PER_COMPOSITE = 5; // reference/salesforce.md: at most 5 collections or queries per composite

/** A target that cannot be matched: its users get a dead letter, the other targets are written. */
export type Unmatched = Map<string, { target: Target; code: string; message: string }>;

/**
 * Longest url a match query may have. Inside /composite a query's url travels in the body, bound only
 * by the 100,000-character SOQL limit, but Salesforce warns that a statement is augmented server-side,
 * so its effective limit is lower (Help article 000386264); staying under the 16,384-byte request URI
 * limit (reference/salesforce.md) keeps each query valid on its own too. 5,000 bytes before issue 17.
 */
export const MAX_QUERY_URL_BYTES = 16_000;

/** The users to find on one target: `byId` by Didomi_User_Id__c only (linked, link-cache.ts), `both` by id or match field. */
export interface MatchKeys {
  byId: string[];
  both: string[];
}

/**
 * The SOQL that finds the records of `keys` on a target: every key in the Didomi_User_Id__c list, and
 * only the keys not yet linked in the match field's list too, so a batch of people already synced
 * needs half the characters. Each query's url stays under MAX_QUERY_URL_BYTES once encoded.
 */
export function matchQueries(t: Target, keys: MatchKeys, base = ''): string[] {
  const matchField = soqlIdent(t.matchField);
  const byIdOnly = matchField === RECORD_FIELDS.userId;
  const link = individualLink(t); // IndividualId / PersonIndividualId: consent-model-sync.ts
  const converted = (t.object === 'Lead' ? ', IsConverted' : '') + (link ? `, ${link}` : '');
  // Converted leads are matched too (IsConverted selected): they count as the person, never written (match-rules.ts).
  const select = `SELECT Id, ${RECORD_FIELDS.userId}${byIdOnly ? '' : ', ' + matchField}${converted} FROM ${t.object} WHERE `;
  const soql = (ids: string[], emails: string[] | null) => {
    const idCond = `${RECORD_FIELDS.userId} IN ${inList(ids)}`;
    return `${select}${emails ? `(${idCond} OR ${matchField} IN ${inList(emails)})` : idCond} ORDER BY Id`;
  };
  // the url's size with empty lists, the longer form; each literal adds its encoded size and a separator
  const fixed = `${base}/query?q=`.length + encodeURIComponent(soql([], byIdOnly ? null : [])).length;
  const each = (v: string) => encodeURIComponent(soqlString(v)).length + SEPARATOR_BYTES;
  const out: string[] = [];
  let ids: string[] = [];
  let emails: string[] = [];
  let size = fixed;
  const add = (k: string, both: boolean) => {
    if (k.length > MAX_LITERAL) return; // cannot be matched by a SOQL literal; such ids are upserted only
    const n = each(k) * (both && !byIdOnly ? 2 : 1);
    if (ids.length && size + n > MAX_QUERY_URL_BYTES) {
      out.push(soql(ids, emails.length ? emails : null));
      ids = [];
      emails = [];
      size = fixed;
    }
    ids.push(k);
    if (both && !byIdOnly) emails.push(k);
    size += n;
  };
  for (const k of keys.byId) add(k, false);
  for (const k of keys.both) add(k, true);
  if (ids.length) out.push(soql(ids, emails.length ? emails : null));
  return out;
}

const SEPARATOR_BYTES = encodeURIComponent(', ').length;

/**
 * Matches per target; a permanent query refusal adds its target to `unmatched` instead of failing the
 * batch. `linked(t, key)` (link-cache.ts) says whose record carries their id already: they are found
 * by Didomi_User_Id__c alone. A linked person that query does not find (the record was deleted or
 * merged, or its id changed in the org) is matched again by id or match field, in a second round.
 */
export async function matchRecords(
  sf: SalesforceApi,
  targets: Target[],
  keys: string[],
  unmatched: Unmatched,
  linked: (t: Target, key: string) => boolean = () => false,
): Promise<Matches> {
  const out: Matches = new Map();
  for (const t of targets) out.set(t.object, new Map());
  const first = targets.map((t) => {
    const byId: string[] = [];
    const both: string[] = [];
    for (const k of keys) (linked(t, k) ? byId : both).push(k);
    return { t, keys: { byId, both } };
  });
  await runQueries(sf, first, out, unmatched);
  const again = first
    .filter(({ t }) => out.has(t.object))
    .map(({ t, keys: k }) => ({ t, keys: { byId: [], both: k.byId.filter((key) => !out.get(t.object)!.has(key.toLowerCase())) } }))
    .filter(({ keys: k }) => k.both.length);
  if (again.length) await runQueries(sf, again, out, unmatched);
  return out;
}

/** Runs the match queries, 5 per composite, and files each record under the keys it was queried by. */
async function runQueries(sf: SalesforceApi, plan: { t: Target; keys: MatchKeys }[], out: Matches, unmatched: Unmatched) {
  const subs: { sub: CompositeSubrequest; target: Target }[] = [];
  const byMatchField = new Map<string, Set<string>>(); // object -> lower-case keys queried by the match field
  for (const { t, keys } of plan) {
    byMatchField.set(t.object, new Set(keys.both.map((k) => k.toLowerCase())));
    for (const soql of matchQueries(t, keys, sf.base))
      subs.push({ target: t, sub: { method: 'GET', url: `${sf.base}/query?q=${encodeURIComponent(soql)}`, referenceId: `q${subs.length}` } });
  }
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
      const viaMatchField = byMatchField.get(target.object)!;
      for (const rec of await sf.allPages(r.body as QueryResult<SObjectRow>)) {
        const id = rec[RECORD_FIELDS.userId];
        const mf = rec[target.matchField];
        // A record is filed under the id it carries, and under its match field only for a key queried by it
        // (a linked person is not matched by Email: the record that carries their id is theirs).
        const ks = new Set<string>();
        if (typeof id === 'string' && id) ks.add(id.toLowerCase());
        if (typeof mf === 'string' && mf && viaMatchField.has(mf.toLowerCase())) ks.add(mf.toLowerCase());
        for (const k of ks) {
          const list = byKey.get(k) ?? [];
          if (!list.some((x) => x.Id === rec.Id)) list.push(rec);
          byKey.set(k, list);
        }
      }
    }
  }
}
