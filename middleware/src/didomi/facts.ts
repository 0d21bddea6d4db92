// Timestamped facts extracted from one stored Didomi webhook (reference/didomi.md): purposes
// (enabled: null = no explicit choice), preference selections (`values[prefId].value`, a
// comma-separated list of value ids; or the deprecated v1 `preferences[]`), user attributes,
// deletion. user.* entities carry a full state, event.* entities the choices of that event.
import type { StoredEvent } from '../store/types.ts';
import { currentEntity, isEventType, type ConsentEvent, type ConsentUser, type DidomiWebhook } from './schema.ts';

export interface Fact {
  /** purpose:<reg>:<purposeId> | pref:<reg>:<purposeId>:<prefId> | attr:<path> | deleted | didomiId */
  key: string;
  value: boolean | string | string[] | null;
  /** Didomi's timestamp (ISO). */
  at: string;
  /** Deterministic tie-break between facts with the same timestamp. */
  tie: string;
}

export const DEFAULT_REGULATION = 'gdpr';

function split(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .sort();
}

export function factsOf(e: StoredEvent): Fact[] {
  const w = e.payload as unknown as DidomiWebhook;
  const ent = currentEntity(w);
  const at = e.occurredAt;
  const tie = e.dedupeKey;
  const out: Fact[] = [];
  const push = (key: string, value: Fact['value']) => out.push({ key, value, at, tie });
  if (w.type === 'event.deleted') return out; // a deleted consent event carries no new choice
  const regulation = ((ent as { regulation?: string }).regulation ?? DEFAULT_REGULATION).toLowerCase();
  if (w.type === 'user.deleted') {
    push('deleted', true);
    return out;
  }
  push('deleted', false);
  const didomiId = isEventType(w) ? (ent as ConsentEvent).user.id : (ent as ConsentUser).id;
  if (didomiId) push('didomiId', didomiId);
  const person = isEventType(w) ? (ent as ConsentEvent).user : (ent as ConsentUser);
  if (person.country) push('attr:country', person.country);
  if (person.last_seen_country) push('attr:last_seen_country', person.last_seen_country);
  for (const [k, v] of Object.entries(person.metadata ?? {})) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) push(`attr:metadata.${k}`, v === null ? null : String(v));
  }
  for (const p of ent.consents?.purposes ?? []) {
    if (p.enabled === true || p.enabled === false) push(`purpose:${regulation}:${p.id}`, p.enabled);
    for (const [prefId, sel] of Object.entries(p.values ?? {})) push(`pref:${regulation}:${p.id}:${prefId}`, split(sel.value));
    for (const lp of p.preferences ?? []) {
      if (typeof lp.value === 'string') push(`pref:${regulation}:${p.id}:${lp.id}`, split(lp.value));
      else if (lp.values) push(`pref:${regulation}:${p.id}:${lp.id}`, [...lp.values].sort());
      else if (lp.enabled === true || lp.enabled === false) push(`pref:${regulation}:${p.id}:${lp.id}`, lp.enabled ? [lp.id] : []);
    }
  }
  return out;
}
