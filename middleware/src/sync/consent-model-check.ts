// Checks the consent data model against describe before any person is synced into it, like field
// mappings: the objects exist (they are "available if Data Protection and Privacy is enabled", Object
// Reference), the integration user may create and edit them, and every field the sync writes is visible
// and editable. A problem makes the Consent Model mappings invalid (INVALID_MAPPING once, on each
// mapping) instead of failing every person; field mappings keep syncing.
import { CONSENT_MODEL } from '../salesforce/api-names.ts';
import type { Describe } from './config-loader.ts';

const C = CONSENT_MODEL;
/** What the sync writes on each object (consent-model.ts, consent-model-sync.ts). */
const WRITES: Record<string, string[]> = {
  [C.individual.object]: [C.individual.fields.userId, 'LastName'],
  [C.purpose.object]: ['Name', C.purpose.fields.key],
  [C.consent.object]: [
    C.consent.fields.key,
    'Name',
    'PartyId',
    'DataUsePurposeId',
    'ContactPointType',
    'PrivacyConsentStatus',
    'CaptureDate',
    'CaptureSource',
    'CaptureContactPointType',
    'EffectiveFrom',
    'DoubleConsentCaptureDate',
  ],
};

export const CONSENT_MODEL_OBJECTS = Object.keys(WRITES);

/** Why the consent data model cannot be written in this org, or null. `describes` is keyed by object name. */
export function consentModelProblem(describes: Map<string, Describe & { createable?: boolean; updateable?: boolean }>): string | null {
  const problems: string[] = [];
  for (const [object, fields] of Object.entries(WRITES)) {
    const d = describes.get(object);
    if (!d) {
      problems.push(`${object} is not available (enable Data Protection and Privacy, and grant the integration user access)`);
      continue;
    }
    if (d.createable === false || d.updateable === false) problems.push(`the integration user cannot create and edit ${object} records`);
    const editable = new Set<string>((d.fields ?? []).filter((x) => x.createable && x.updateable).map((x) => String(x.name).toLowerCase()));
    const bad = fields.filter((f) => !editable.has(f.toLowerCase()));
    if (bad.length) problems.push(`${object}: ${bad.join(', ')} not visible or not editable to the integration user`);
  }
  return problems.length ? `consent data model unusable: ${problems.join('; ')}` : null;
}
