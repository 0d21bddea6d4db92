// What the written cache (work.ts `Written`: record id -> fields last written) says about a person's
// records on a target, and keeping it true to what the match queries found in the org.
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import type { TargetObject } from '../salesforce/api-names.ts';
import type { Target } from './config-types.ts';
import type { Matches } from './plan.ts';
import type { Work, Written } from './work.ts';

/** Record id key prefixes of the target objects (Salesforce's standard ones: Lead 00Q, Contact 003, Account 001). */
export const KEY_PREFIX: Record<TargetObject, string> = { Lead: '00Q', Contact: '003', Account: '001' };

const idOf = (fields: Record<string, unknown> | undefined) => String(fields?.[RECORD_FIELDS.userId] ?? '').toLowerCase();

/**
 * Linked: the last sync wrote this person's Didomi_User_Id__c on their one record of the target's
 * object, so a query by that id finds it. A person with several records (only one can hold the unique
 * id) or none is not linked: they are matched by Email too.
 */
export function isLinked(t: Target, key: string, written: Written): boolean {
  const prefix = KEY_PREFIX[t.object];
  let found: Record<string, unknown> | undefined;
  for (const [id, fields] of Object.entries(written)) {
    if (!id.startsWith(prefix)) continue;
    if (found) return false;
    found = fields;
  }
  return !!found && idOf(found) === key.toLowerCase();
}

/**
 * After matching, the cache keeps only what is still true of each target the queries answered for:
 * records no longer matched (deleted, merged, their id or Email changed) are forgotten, so nothing is
 * diffed against them, and a matched record whose Didomi_User_Id__c is not the one written (cleared or
 * changed in the org) has that field forgotten, so it is written again when the person still owns it.
 */
export function reconcileWritten(works: Work[], targets: Target[], matches: Matches): void {
  for (const t of targets) {
    const byKey = matches.get(t.object);
    if (!byKey) continue; // not matched in this batch (unusable target): nothing learnt
    const prefix = KEY_PREFIX[t.object];
    for (const w of works) {
      const found = new Map((byKey.get(w.user.userKey.toLowerCase()) ?? []).map((r) => [r.Id, r]));
      for (const [id, fields] of Object.entries(w.written)) {
        if (!id.startsWith(prefix)) continue;
        const r = found.get(id);
        if (!r) delete w.written[id];
        else if (RECORD_FIELDS.userId in fields && idOf(fields) !== idOf(r)) {
          const { [RECORD_FIELDS.userId]: _stale, ...rest } = fields;
          w.written[id] = rest;
        }
      }
    }
  }
}
