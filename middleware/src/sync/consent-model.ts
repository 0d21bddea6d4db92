// Plans what one person's consent state means in Salesforce's consent data model (pure: no I/O).
// Object Reference for the Salesforce Platform: an Individual holds a person's privacy record and is
// linked from Lead.IndividualId / Contact.IndividualId; a ContactPointTypeConsent is a party's consent
// to a DataUsePurpose over a contact point type (PrivacyConsentStatus OptIn | OptOut, CaptureDate,
// CaptureSource, DoubleConsentCaptureDate). One Individual per Didomi user (upserted by
// Individual.Didomi_User_Id__c) and one consent per (person, purpose, channel) (upserted by
// Didomi_Consent_Key__c), so a retry never duplicates either. Absence of consent is refusal: an
// erased person's consents become OptOut, never OptIn.
import { createHash } from 'node:crypto';
import { CONSENT_MODEL } from '../salesforce/api-names.ts';
import { CONFIRMED } from '../didomi/facts.ts';
import { isDeleted, type ConsentState, type Stamped } from './consent-state.ts';
import { pick, type FieldValues } from './project.ts';
import type { ConsentModelMapping } from './config-types.ts';

export type Written = Record<string, Record<string, unknown>>; // record id -> field -> value last written

/** Salesforce key prefixes (the first 3 characters of every record id) of the objects involved. */
export const KEY_PREFIX: Record<string, string> = { Individual: '0PK', ContactPointTypeConsent: '0ZY', Lead: '00Q', Contact: '003', Account: '001' };

const IND = CONSENT_MODEL.individual.fields.userId;
const KEY = CONSENT_MODEL.consent.fields.key;

export interface ConsentOp {
  /** Known record: update by id with the changed fields; else upsert by Didomi_Consent_Key__c with every field. */
  id?: string;
  fields: FieldValues;
  dataUsePurpose: string;
}

/** The consent's upsert key: stable for (person, purpose, channel), case-insensitive on names, within 255 characters. */
export function consentKey(userKey: string, dataUsePurpose: string, channel: string): string {
  return createHash('sha256').update([userKey.toLowerCase(), dataUsePurpose.toLowerCase(), channel].join('\u0000')).digest('hex');
}

/** The Individual this sync created (or found by upsert) for the person, from what was written. */
export function individualId(userKey: string, written: Written): string | null {
  for (const [id, f] of Object.entries(written)) if (id.startsWith(KEY_PREFIX.Individual) && f[IND] === userKey) return id;
  return null;
}

/** The person's Lead and Contact records written by the sync (any target), by id, with their object. */
export function linkedRecords(written: Written): { id: string; object: string }[] {
  const out: { id: string; object: string }[] = [];
  for (const id of Object.keys(written))
    for (const object of Object.keys(CONSENT_MODEL.recordLink)) if (id.startsWith(KEY_PREFIX[object])) out.push({ id, object });
  return out;
}

/** The IndividualId each matched record holds now (record id -> Individual id or null), from the match query. */
export type CurrentLinks = Map<string, string | null>;

/** The Didomi user each Individual already belongs to (Individual id -> Didomi_User_Id__c or null). */
export type Owners = Map<string, string | null>;

/** Individuals the person's matched records point at and whose owner must be known before adopting one. */
export function adoptCandidates(written: Written, current: CurrentLinks): string[] {
  return linkedRecords(written)
    .map((r) => current.get(r.id))
    .filter((x): x is string => !!x);
}

/**
 * How to get the person's Individual, or null when it exists already or there is no record to link it
 * from: adopt the Individual a matched record already points at (the org's own, e.g. made by another
 * app: its consents stay together) unless another Didomi user owns it, else upsert one by the Didomi
 * user id. An owned Individual never changes owner: the first Didomi user to adopt it keeps it, and
 * `owners` is updated so a second user in the same batch does not take it either.
 */
export function planIndividual(
  userKey: string,
  state: ConsentState,
  mappings: ConsentModelMapping[],
  written: Written,
  current: CurrentLinks = new Map(),
  owners: Owners = new Map(),
): { id?: string; fields: FieldValues } | null {
  if (!mappings.length || isDeleted(state) || individualId(userKey, written) || !linkedRecords(written).length) return null;
  const free = (id: string) => {
    const owner = owners.get(id);
    return !owner || owner.toLowerCase() === userKey.toLowerCase();
  };
  const adopt = adoptCandidates(written, current).filter(free).sort()[0];
  if (adopt) {
    owners.set(adopt, userKey);
    return { id: adopt, fields: { [IND]: userKey } };
  }
  // Individual.LastName is required (Object Reference: Individual); the sync knows the person by their Didomi id only.
  return { fields: { [IND]: userKey, LastName: userKey.slice(0, 80) } };
}

/**
 * Record updates that point each of the person's records at their Individual: only records pointing
 * nowhere yet; a record that points at another Individual keeps it (the sync never moves a record
 * away from privacy data it did not write).
 */
export function planLinks(
  state: ConsentState,
  written: Written,
  individual: string,
  current: CurrentLinks = new Map(),
): { id: string; object: string; fields: FieldValues }[] {
  if (isDeleted(state)) return [];
  return linkedRecords(written)
    .map((r) => ({ ...r, field: CONSENT_MODEL.recordLink[r.object] }))
    .filter((r) => written[r.id]?.[r.field] !== individual && !current.get(r.id))
    .map((r) => ({ id: r.id, object: r.object, fields: { [r.field]: individual } }));
}

/** What a mapping says for the person: granted or not, when, and when a double opt-in confirmed it; undefined: no choice. */
export function consentValue(state: ConsentState, m: ConsentModelMapping): { granted: boolean; capturedAt: string; confirmedAt: string | null } | undefined {
  let f: Stamped | undefined;
  let granted: boolean;
  if (m.preferenceId && m.valueId) {
    f = pick(state, 'pref', `${m.purposeId}:${m.preferenceId}`, m.regulation);
    if (!f || !Array.isArray(f.v)) return undefined;
    granted = f.v.includes(m.valueId);
  } else {
    f = pick(state, 'purpose', m.purposeId, m.regulation);
    if (!f || typeof f.v !== 'boolean') return undefined;
    granted = f.v;
  }
  // A choice Didomi confirmed (double opt-in) shares its time and order with the event's `confirmed:` fact
  // (didomi/facts.ts); its order starts with the event's created_at, when the person made the choice.
  const confirmed = Object.entries(state.facts).some(([k, c]) => k.startsWith(CONFIRMED) && c.at === f.at && c.order === f.order);
  if (granted && confirmed) return { granted, capturedAt: f.order.split('|')[0] || f.at, confirmedAt: f.at };
  return { granted, capturedAt: f.at, confirmedAt: null };
}

/**
 * ContactPointTypeConsent writes for one person: every mapped choice, OptOut for what an erasure left
 * unsaid (and, for a person erased with nothing said since, OptOut on every consent already written,
 * never a new one), and only the fields that changed since the last successful write.
 */
export function planConsents(
  userKey: string,
  state: ConsentState,
  mappings: ConsentModelMapping[],
  written: Written,
  individual: string,
  purposeIds: Map<string, string>,
): ConsentOp[] {
  const known = new Map<string, string>();
  for (const [id, f] of Object.entries(written)) if (id.startsWith(KEY_PREFIX.ContactPointTypeConsent) && typeof f[KEY] === 'string') known.set(f[KEY], id);
  const erased = isDeleted(state);
  const ops: ConsentOp[] = [];
  for (const m of mappings) {
    const key = consentKey(userKey, m.dataUsePurpose, m.contactPointType);
    const id = known.get(key);
    let v = erased ? undefined : consentValue(state, m);
    if (!v && state.deletedAt) v = { granted: false, capturedAt: state.deletedAt, confirmedAt: null }; // absence of consent is refusal
    if (!v || (erased && !id)) continue;
    const purposeId = purposeIds.get(m.dataUsePurpose.toLowerCase());
    if (!purposeId) continue; // the caller retries the person once the purpose exists
    const desired: FieldValues = {
      [KEY]: key,
      PartyId: individual,
      DataUsePurposeId: purposeId,
      ContactPointType: m.contactPointType,
      PrivacyConsentStatus: v.granted ? 'OptIn' : 'OptOut',
      CaptureDate: v.capturedAt,
      CaptureSource: CONSENT_MODEL.captureSource,
      CaptureContactPointType: 'Web', // Didomi collects consent through web and app notices and preference centres
      EffectiveFrom: v.capturedAt,
      DoubleConsentCaptureDate: v.confirmedAt,
    };
    if (erased) delete desired.PartyId; // the party is unchanged; the person may have no Individual id at hand
    if (!id) {
      ops.push({ fields: { Name: `${m.dataUsePurpose} (${m.contactPointType})`.slice(0, 255), ...desired }, dataUsePurpose: m.dataUsePurpose });
      continue;
    }
    const before = written[id] ?? {};
    const changed: FieldValues = {};
    for (const [f, x] of Object.entries(desired)) if (before[f] !== x) changed[f] = x;
    if (Object.keys(changed).length) ops.push({ id, fields: changed, dataUsePurpose: m.dataUsePurpose });
  }
  return ops;
}
