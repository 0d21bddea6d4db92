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
import { audit, f, obj, type FieldDef, type ObjectDef } from './schema.ts';

const CHANNELS = ['Email', 'MailingAddress', 'Phone', 'Social', 'Web'];
const STATUSES = ['NotSeen', 'OptIn', 'OptOut', 'Seen'];
const restricted = (values: string[]) => ({
  picklistValues: values.map((v) => ({ value: v, label: v, default: false })),
  restrictedPicklist: true,
});
const required = { nillable: false, requiredOnCreate: true };

export const PERSON_ACCOUNT_CONSENT_FIELDS = (): FieldDef[] => [f('PersonIndividualId', 'reference', { referenceTo: ['Individual'] })];

export function consentModelObjects(): ObjectDef[] {
  const individual = [
    ...audit(),
    f('FirstName', 'string', { length: 40 }),
    f('LastName', 'string', { length: 80, ...required }),
    f('Name', 'string', { length: 121, createable: false, updateable: false }),
    f('HasOptedOutProcessing', 'boolean'),
    f('HasOptedOutTracking', 'boolean'),
    f('ShouldForget', 'boolean'),
  ];
  const purpose = [
    ...audit(),
    f('Name', 'string', { length: 80, ...required, createable: true, updateable: true }),
    f('CanDataSubjectOptOut', 'boolean'),
    f('Description', 'string', { length: 255 }),
  ];
  const consent = [
    ...audit(),
    f('Name', 'string', { length: 255, ...required, createable: true, updateable: true }),
    f('PartyId', 'reference', { referenceTo: ['Individual'], ...required }),
    f('DataUsePurposeId', 'reference', { referenceTo: ['DataUsePurpose'] }),
    f('ContactPointType', 'picklist', { ...restricted(CHANNELS), ...required }),
    f('CaptureContactPointType', 'picklist', restricted(CHANNELS)),
    f('PrivacyConsentStatus', 'picklist', { ...restricted(STATUSES), ...required }),
    f('CaptureDate', 'datetime', required),
    f('CaptureSource', 'string', { length: 255, ...required }),
    f('DoubleConsentCaptureDate', 'datetime'),
    f('EffectiveFrom', 'datetime'),
    f('EffectiveTo', 'datetime'),
  ];
  return [
    obj('Individual', 'Individual', 'Individuals', '0PK', false, individual),
    obj('DataUsePurpose', 'Data Use Purpose', 'Data Use Purposes', '0ZW', false, purpose),
    obj('ContactPointTypeConsent', 'Contact Point Type Consent', 'Contact Point Type Consents', '0ZY', false, consent),
  ];
}
