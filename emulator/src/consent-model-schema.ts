// Salesforce's consent data model, as the Object Reference for the Salesforce Platform documents it
// (available when Data Protection and Privacy is enabled):
// - Individual: LastName required (string 80); Lead.IndividualId / Contact.IndividualId and, with person
//   accounts, Account.PersonIndividualId refer to it.
// - DataUsePurpose: Name required; CanDataSubjectOptOut boolean, defaulted on create (false).
// - ContactPointTypeConsent: Name required; PartyId (refers to Individual) required; restricted picklists
//   ContactPointType and CaptureContactPointType (Email, MailingAddress, Phone, Social, Web) and
//   PrivacyConsentStatus (NotSeen, OptIn, OptOut, Seen); CaptureDate, CaptureSource, ContactPointType
//   and PrivacyConsentStatus are "Required" by their descriptions, so the emulator requires them on create.
// Only the fields the sync touches are modelled; key prefixes are Salesforce's (0PK, 0ZW, 0ZY).
import { audit, f, obj, type FieldDef, type LoadedSchema, type ObjectDef } from './schema.ts';

const CHANNELS = ['Email', 'MailingAddress', 'Phone', 'Social', 'Web'];
const STATUSES = ['NotSeen', 'OptIn', 'OptOut', 'Seen'];
const restricted = (values: string[]) => ({
  picklistValues: values.map((v) => ({ value: v, label: v, default: false })),
  restrictedPicklist: true,
});
const required = { nillable: false, requiredOnCreate: true };
// Every field but the name, the party and the audit fields is under field-level security ("With certain
// page layout and field-level security settings, some fields aren't visible or editable", Object Reference);
// the integration user needs a permission set grant for each one it reads or writes.
const fls = { fls: true };

export const PERSON_ACCOUNT_CONSENT_FIELDS = (): FieldDef[] => [
  f('PersonIndividualId', 'reference', { referenceTo: ['Individual'], fls: true, flsField: 'Contact.IndividualId' }),
];

export function consentModelObjects(): ObjectDef[] {
  const individual = [
    ...audit(),
    f('FirstName', 'string', { length: 40, ...fls }),
    f('LastName', 'string', { length: 80, ...required }),
    f('Name', 'string', { length: 121, createable: false, updateable: false }),
    f('HasOptedOutProcessing', 'boolean', { ...fls }),
    f('HasOptedOutTracking', 'boolean', { ...fls }),
    f('ShouldForget', 'boolean', { ...fls }),
  ];
  const purpose = [
    ...audit(),
    f('Name', 'string', { length: 80, ...required, createable: true, updateable: true }),
    f('CanDataSubjectOptOut', 'boolean', { ...fls }),
    f('Description', 'string', { length: 255, ...fls }),
  ];
  const consent = [
    ...audit(),
    f('Name', 'string', { length: 255, ...required, createable: true, updateable: true }),
    f('PartyId', 'reference', { referenceTo: ['Individual'], ...required }),
    f('DataUsePurposeId', 'reference', { referenceTo: ['DataUsePurpose'], ...fls }),
    f('ContactPointType', 'picklist', { ...restricted(CHANNELS), ...required, ...fls }),
    f('CaptureContactPointType', 'picklist', { ...restricted(CHANNELS), ...fls }),
    f('PrivacyConsentStatus', 'picklist', { ...restricted(STATUSES), ...required, ...fls }),
    f('CaptureDate', 'datetime', { ...required, ...fls }),
    f('CaptureSource', 'string', { length: 255, ...required, ...fls }),
    f('DoubleConsentCaptureDate', 'datetime', { ...fls }),
    f('EffectiveFrom', 'datetime', { ...fls }),
    f('EffectiveTo', 'datetime', { ...fls }),
  ];
  return [
    obj('Individual', 'Individual', 'Individuals', '0PK', false, individual),
    obj('DataUsePurpose', 'Data Use Purpose', 'Data Use Purposes', '0ZW', false, purpose),
    obj('ContactPointTypeConsent', 'Contact Point Type Consent', 'Contact Point Type Consents', '0ZY', false, consent),
  ];
}

/**
 * An org without Data Protection and Privacy: the three objects do not exist ("available if Data
 * Protection and Privacy is enabled", Object Reference: Individual, DataUsePurpose, ContactPointTypeConsent),
 * nor the lookups to Individual, so describe, query and writes answer as for any unknown object or field.
 */
export function withoutConsentModel(schema: LoadedSchema) {
  for (const name of ['individual', 'datausepurpose', 'contactpointtypeconsent']) schema.objects.delete(name);
  for (const def of schema.objects.values())
    for (const [k, fd] of def.fields) if (fd.type === 'reference' && fd.referenceTo?.includes('Individual')) def.fields.delete(k);
}
