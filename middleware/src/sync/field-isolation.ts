// One refused field never blocks the rest of its record (above all a withdrawal): Salesforce's
// per-record errors name the offending fields (`errors[].fields`, reference/salesforce.md "sObject
// Collections"; SOAP API Developer Guide "Error": fields = "the fields that affected the error
// condition"; e.g. INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, STRING_TOO_LONG), so the record is sent
// again without them, and only they are dead-lettered.
import { noConsentValue, type FieldValues } from './project.ts';
import type { Target } from './config-types.ts';
import type { RecordResult } from './result-accounting.ts';

/** Rounds of "drop the refused fields and resend" per batch: each drops at least one field, and only refused records are resent. */
export const MAX_ISOLATION_ROUNDS = 5;

/**
 * The sent fields a permanent per-record failure names, when the record can be written without them;
 * null when it cannot: no field named, a named field was not sent (REQUIRED_FIELD_MISSING), or the
 * record's key (`keep`, e.g. the external id of an upsert) is among them.
 */
export function refusedFields(sent: FieldValues, errors: RecordResult['errors'], keep: string[] = []): string[] | null {
  const byLower = new Map(Object.keys(sent).map((f) => [f.toLowerCase(), f]));
  const named = new Set<string>();
  for (const e of errors ?? []) for (const f of e.fields ?? []) named.add(String(f).toLowerCase());
  if (!named.size) return null;
  const out: string[] = [];
  for (const f of named) {
    const field = byLower.get(f);
    if (!field || keep.some((k) => k.toLowerCase() === f)) return null;
    out.push(field);
  }
  return out;
}

/** Splits a record's fields into those to resend and those refused. */
export function withoutFields(sent: FieldValues, drop: string[]): { rest: FieldValues; refused: FieldValues } {
  const rest: FieldValues = {};
  const refused: FieldValues = {};
  for (const [f, v] of Object.entries(sent)) (drop.includes(f) ? refused : rest)[f] = v;
  return { rest, refused };
}

/**
 * What to resend in place of refused fields: each mapped field's no-consent value (absence of consent
 * is refusal, DESIGN.md "Safety"), so a field whose new value Salesforce refuses never keeps an older,
 * broader grant (topics since withdrawn). Not for a field whose no-consent value was itself refused
 * (`tried`), nor when that value is the refused one.
 */
export function noConsentFallback(target: Target, refused: FieldValues, tried: ReadonlySet<string>): FieldValues {
  const out: FieldValues = {};
  for (const [field, value] of Object.entries(refused)) {
    if (tried.has(field)) continue;
    const m = target.mappings.find((x) => x.field.toLowerCase() === field.toLowerCase());
    if (!m) continue;
    const none = noConsentValue(m);
    if (none !== value) out[field] = none;
  }
  return out;
}
