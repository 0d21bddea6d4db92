// Projection of a user's merged consent state onto a target's fields, by Didomi's mapping rules
// (reference/didomi.md: purpose -> Boolean, preference -> string, preference value -> Boolean)
// plus invert, value-id -> label translation, multi-select picklists (`;`-joined) and a
// regulation filter per mapping (so a CPRA choice never overwrites a GDPR field).
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import { isDeleted, snapshot, type ConsentState, type Stamped } from './consent-state.ts';
import type { Mapping, Target } from './config-types.ts';

export type FieldValues = Record<string, string | boolean | null>;

/** The newest fact among the keys a mapping accepts (one regulation, or all with "any"). */
function pick(state: ConsentState, prefix: string, suffix: string, regulation: string): Stamped | undefined {
  if (regulation !== 'any') return state.facts[`${prefix}:${regulation}:${suffix}`];
  let best: Stamped | undefined;
  for (const [k, f] of Object.entries(state.facts)) {
    if (!k.startsWith(prefix + ':') || !k.endsWith(':' + suffix)) continue;
    if (k.split(':').slice(2).join(':') !== suffix) continue;
    if (!best || f.at > best.at || (f.at === best.at && f.tie > best.tie)) best = f;
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
    if (v !== undefined) out[m.field] = v;
  }
  out[RECORD_FIELDS.userId] = userKey;
  out[RECORD_FIELDS.updatedAt] = state.updatedAt;
  out[RECORD_FIELDS.snapshot] = snapshot(userKey, state);
  return out;
}

/** Values that clear what the sync wrote (deletion behaviour "Clear Consent Fields"). */
export function cleared(target: Target): FieldValues {
  const out: FieldValues = {};
  // Each field's no-consent value: an inverted opt-out checkbox (HasOptedOutOfEmail) is true, never false (DESIGN.md "Safety").
  for (const m of target.mappings) out[m.field] = m.fieldType === 'boolean' ? m.invert : null;
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
  }
}
