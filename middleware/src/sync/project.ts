// Projection of a user's merged consent state onto a target's fields, by Didomi's mapping rules
// (reference/didomi.md: purpose -> Boolean, preference -> string, preference value -> Boolean)
// plus invert, value-id -> label translation, multi-select picklists (`;`-joined) and a
// regulation filter per mapping (so a CPRA choice never overwrites a GDPR field).
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import { compareStamps, effective, effectiveFacts, isDeleted, meet, snapshot, type ConsentState, type Stamped } from './consent-state.ts';
import type { Mapping, Target } from './config-types.ts';

export type FieldValues = Record<string, string | boolean | null>;

/** The value that counts among the keys a mapping accepts (one regulation, or the newest of all with "any"). */
export function pick(state: ConsentState, prefix: string, suffix: string, regulation: string): Stamped | undefined {
  if (regulation !== 'any') return effective(state, `${prefix}:${regulation}:${suffix}`);
  let best: Stamped | undefined;
  for (const [k, f] of effectiveFacts(state)) {
    if (!k.startsWith(prefix + ':') || k.split(':').slice(2).join(':') !== suffix) continue;
    const c = best ? compareStamps(f, best) : 1;
    if (c > 0) best = f;
    else if (c === 0) best = { ...best!, v: meet(k, best!.v, f.v) };
  }
  return best;
}

function mappedValue(state: ConsentState, m: Mapping): string | boolean | null | undefined {
  switch (m.kind) {
    case 'Purpose': {
      const f = pick(state, 'purpose', m.purposeId ?? '', m.regulation);
      if (!f || typeof f.v !== 'boolean') return undefined; // no explicit choice: leave the field alone
      return m.invert ? !f.v : f.v;
    }
    case 'Preference Value': {
      const f = pick(state, 'pref', `${m.purposeId}:${m.preferenceId}`, m.regulation);
      if (!f || !Array.isArray(f.v)) return undefined;
      const on = f.v.includes(m.valueId ?? '');
      return m.invert ? !on : on;
    }
    case 'Preference': {
      const f = pick(state, 'pref', `${m.purposeId}:${m.preferenceId}`, m.regulation);
      if (!f || !Array.isArray(f.v)) return undefined;
      const labels = f.v.map((id) => m.valueLabels[id] ?? id);
      if (!labels.length) return null;
      if (m.fieldType === 'multipicklist') return labels.join(';');
      if (m.fieldType === 'picklist') return labels[0];
      return labels.join(', ');
    }
    case 'User Attribute': {
      const f = state.facts[`attr:${m.attributePath}`];
      if (!f) return undefined;
      return f.v === null ? null : String(f.v);
    }
  }
}

/** Field values for one user on one target; null when the user is deleted (handled by the caller). */
export function project(userKey: string, state: ConsentState, target: Target): FieldValues | null {
  if (isDeleted(state)) return null;
  const out: FieldValues = {};
  for (const m of target.mappings) {
    const v = mappedValue(state, m);
    // After an erasure the state is complete: what was not said since is absent, and absence is refusal.
    if (v !== undefined) out[m.field] = v;
    else if (state.deletedAt) out[m.field] = noConsentValue(m);
  }
  out[RECORD_FIELDS.userId] = userKey;
  out[RECORD_FIELDS.updatedAt] = state.updatedAt;
  const max = target.fields?.get(RECORD_FIELDS.snapshot.toLowerCase())?.length || SNAPSHOT_MAX;
  out[RECORD_FIELDS.snapshot] = withinLength(snapshot(userKey, state), max);
  return out;
}

/**
 * A field's value when the person consents to nothing (absence of consent is refusal): a purpose or
 * preference-value checkbox false, an inverted opt-out checkbox (HasOptedOutOfEmail, DoNotCall) true,
 * a text or picklist empty.
 */
export function noConsentValue(m: Mapping): string | boolean | null {
  if (m.kind === 'Purpose' || m.kind === 'Preference Value') return m.invert;
  return null;
}

/** Didomi_Consents__c is a Long Text Area of 131,072 characters (force-app field metadata). */
export const SNAPSHOT_MAX = 131_072;

/**
 * A snapshot longer than its field would be refused (STRING_TOO_LONG): keep it valid JSON and
 * within `max` by dropping its biggest entries (purposes, preferences, attributes), marked
 * `"truncated": true`. The consent fields themselves are projected from the full state.
 */
export function withinLength(json: string, max: number): string {
  if (json.length <= max) return json;
  const snap = JSON.parse(json) as Record<string, unknown>;
  const entries: { holder: Record<string, unknown>; key: string; size: number }[] = [];
  const collect = (holder: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(holder)) entries.push({ holder, key: k, size: JSON.stringify(k).length + JSON.stringify(v).length + 2 });
  };
  for (const section of ['purposes', 'preferences'] as const)
    for (const reg of Object.values((snap[section] ?? {}) as Record<string, Record<string, unknown>>)) collect(reg);
  collect((snap.attributes ?? {}) as Record<string, unknown>);
  entries.sort((a, b) => b.size - a.size);
  snap.truncated = true;
  let out = JSON.stringify(snap);
  let over = out.length - max;
  for (const e of entries) {
    if (over <= 0 && (out = JSON.stringify(snap)).length <= max) return out;
    delete e.holder[e.key];
    over -= e.size;
  }
  out = JSON.stringify(snap);
  return out.length <= max ? out : JSON.stringify({ truncated: true });
}

/** Values that clear what the sync wrote (deletion behaviour "Clear Consent Fields"): nothing granted. */
export function cleared(target: Target): FieldValues {
  const out: FieldValues = {};
  for (const m of target.mappings) out[m.field] = noConsentValue(m);
  out[RECORD_FIELDS.snapshot] = null;
  out[RECORD_FIELDS.updatedAt] = null;
  return out;
}

/** Didomi's rules for which field types a mapping kind may target (checked against describe). */
export function fieldTypeAllowed(kind: Mapping['kind'], type: string): boolean {
  switch (kind) {
    case 'Purpose':
    case 'Preference Value':
      return type === 'boolean';
    case 'Preference':
      return ['string', 'textarea', 'picklist', 'multipicklist'].includes(type);
    case 'User Attribute':
      return ['string', 'textarea', 'picklist', 'email', 'phone'].includes(type);
    case 'Consent Model':
      return true; // writes no field of the target (sync/consent-model.ts)
  }
}
