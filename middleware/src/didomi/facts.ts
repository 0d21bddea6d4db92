// Timestamped facts extracted from one stored Didomi webhook (reference/didomi.md): purposes
// (enabled: null = no explicit choice), preference selections (`values[prefId].value`, a
// comma-separated list of value ids; or the deprecated v1 `preferences[]`), user attributes,
// deletion. user.* entities carry a full state, event.* entities the choices of that event.
import type { StoredEvent } from '../store/types.ts';
import { currentEntity, isEventType, type ConsentEvent, type ConsentUser, type DidomiWebhook } from './schema.ts';

export interface Fact {
  /**
   * purpose:<reg>:<purposeId> | pref:<reg>:<purposeId>:<prefId> | attr:<path> | didomiId | seen (the
   * person exists as of `at`) | deleted (user.deleted: forgets every fact up to `at`); a choice of an
   * event still pending approval is keyed `pending:<event id>:<key>` (it may take consent away, never
   * grant it) until `confirmed:<event id>` says Didomi confirmed that very event.
   */
  key: string;
  value: boolean | string | string[] | null;
  /** Didomi's time for the change (ISO): an event's updated_at, else its created_at; a user's updated_at. */
  at: string;
  /**
   * Orders facts with the same `at` (fixed-width, compared as a string): the event's created_at, the
   * user's version, then event.updated after event.created and confirmed after pending. Didomi re-applies
   * confirmed events "according to their update or creation date" (developers.didomi.io, Consent event
   * approvals); an update cannot precede what it updates.
   */
  order: string;
}

export const PENDING = 'pending:';
export const CONFIRMED = 'confirmed:';
/** Event ids are free text: encoded so that a key splits unambiguously on ':'. */
export const pendingKey = (eventId: string, key: string) => `${PENDING}${encodeURIComponent(eventId)}:${key}`;
export const confirmedKey = (eventId: string) => CONFIRMED + encodeURIComponent(eventId);
export const DEFAULT_REGULATION = 'gdpr';

function split(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .sort();
}

const iso = (t: string | undefined) => (t && !Number.isNaN(Date.parse(t)) ? new Date(Date.parse(t)).toISOString() : new Date(0).toISOString());

/** The secondary order of a webhook's facts (see Fact.order). */
function orderOf(w: DidomiWebhook): string {
  const ent = currentEntity(w);
  if (!isEventType(w)) {
    const u = ent as ConsentUser;
    return `${iso(u.updated_at ?? u.created_at)}|${String(u.version ?? 0).padStart(15, '0')}|0`;
  }
  const ev = ent as ConsentEvent;
  const rank = (w.type === 'event.updated' ? 2 : 0) + (ev.status === 'pending_approval' ? 0 : 1);
  return `${iso(ev.created_at)}|${'0'.repeat(15)}|${rank}`;
}

/** The person's Didomi id and attributes: not consent, applied from confirmed changes only. */
function pushAttributes(w: DidomiWebhook, push: (key: string, value: Fact['value']) => void) {
  const ent = currentEntity(w);
  const didomiId = isEventType(w) ? (ent as ConsentEvent).user.id : (ent as ConsentUser).id;
  if (didomiId) push('didomiId', didomiId);
  const person = isEventType(w) ? (ent as ConsentEvent).user : (ent as ConsentUser);
  if (person.country) push('attr:country', person.country);
  if (person.last_seen_country) push('attr:last_seen_country', person.last_seen_country);
  for (const [k, v] of Object.entries(person.metadata ?? {})) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) push(`attr:metadata.${k}`, v === null ? null : String(v));
  }
}

export function factsOf(e: StoredEvent): Fact[] {
  const w = e.payload as unknown as DidomiWebhook;
  const ent = currentEntity(w);
  const at = e.occurredAt;
  const order = orderOf(w);
  const out: Fact[] = [];
  // Double opt-in: a pending_approval event is "not applied to the user consent status until the event is
  // approved" (developers.didomi.io, Consent event approvals). Its choices are kept apart, per event, so
  // they can only refuse (refusing needs no proof) until that event's confirmed version (event.updated).
  const pending = isEventType(w) && (ent as ConsentEvent).status === 'pending_approval';
  const eventId = isEventType(w) ? (ent as ConsentEvent).id : '';
  const push = (key: string, value: Fact['value']) => out.push({ key, value, at, order });
  const choice = (key: string, value: Fact['value']) => push(pending ? pendingKey(eventId, key) : key, value);
  if (w.type === 'event.deleted') return out; // a deleted consent event carries no new choice
  const regulation = ((ent as { regulation?: string }).regulation ?? DEFAULT_REGULATION).toLowerCase();
  if (w.type === 'user.deleted') {
    push('deleted', true);
    return out;
  }
  push('seen', true);
  if (w.type === 'event.updated' && !pending) push(confirmedKey(eventId), true);
  if (!pending) pushAttributes(w, push);
  for (const p of ent.consents?.purposes ?? []) {
    if (p.enabled === true || p.enabled === false) choice(`purpose:${regulation}:${p.id}`, p.enabled);
    for (const [prefId, sel] of Object.entries(p.values ?? {})) choice(`pref:${regulation}:${p.id}:${prefId}`, split(sel.value));
    for (const lp of p.preferences ?? []) {
      if (typeof lp.value === 'string') choice(`pref:${regulation}:${p.id}:${lp.id}`, split(lp.value));
      else if (lp.values) choice(`pref:${regulation}:${p.id}:${lp.id}`, [...lp.values].sort());
      else if (lp.enabled === true || lp.enabled === false) choice(`pref:${regulation}:${p.id}:${lp.id}`, lp.enabled ? [lp.id] : []);
    }
  }
  return out;
}
