// A realistic sync configuration seeded into the emulator: targets for Lead and Contact with
// mappings of every kind, using Didomi id shapes seen in Didomi's own repositories
// (reference/didomi.md: purpose marketing-9HmMn6Vt, preference CFWKNVJV, value dK7rBBXk).
import type { Emulator } from '@didomi-sync/emulator';

export const PURPOSE = 'marketing-9HmMn6Vt';
export const PHONE_PURPOSE = 'phone_calls-Yk2LmP7q';
export const PREFERENCE = 'CFWKNVJV';
export const VALUE_WEEKLY = 'dK7rBBXk';
export const VALUE_OFFERS = 'Qz8hNn3W';
export const VALUE_EVENTS = 'mP4tRw2e';
export const VALUE_LABELS = { [VALUE_WEEKLY]: 'Weekly digest', [VALUE_OFFERS]: 'Offers', [VALUE_EVENTS]: 'Events' };

/** The customer's own fields a real org would have (the emulator adds them to its schema). */
export const CUSTOMER_FIELDS = {
  Lead: [
    { name: 'Newsletter_Topics__c', type: 'multipicklist' as const, values: Object.values(VALUE_LABELS), restricted: true },
    { name: 'Weekly_Digest__c', type: 'boolean' as const },
    { name: 'Marketing_Consent_CPRA__c', type: 'boolean' as const },
    { name: 'Consent_Country__c', type: 'string' as const, length: 64 },
  ],
  Contact: [
    { name: 'Newsletter_Topics__c', type: 'multipicklist' as const, values: Object.values(VALUE_LABELS), restricted: true },
    { name: 'Weekly_Digest__c', type: 'boolean' as const },
  ],
};

/** The customer admin's own permission set for the integration user: edit on the fields they map beyond the package's
 *  grants (DoNotCall, their own fields) and, for upsert mode, on the Lead's Email, which a created Lead carries. */
export const CUSTOMER_PERMISSION_SETS = {
  Consent_Fields_Integration: {
    'Lead.DoNotCall': 'edit' as const,
    'Lead.Email': 'edit' as const,
    ...Object.fromEntries(Object.entries(CUSTOMER_FIELDS).flatMap(([o, fields]) => fields.map((f) => [`${o}.${f.name}`, 'edit' as const]))),
  },
};
export const INTEGRATION_PERMISSION_SETS = ['Didomi_Sync_Integration', ...Object.keys(CUSTOMER_PERMISSION_SETS)];

export interface SeedOptions {
  leadUpsert?: boolean;
  leadDeletion?: 'Ignore' | 'Clear Consent Fields' | 'Delete Record';
  contact?: boolean;
  /** A target for person accounts, matched on PersonEmail. */
  account?: boolean;
  /** Consent Model mappings (issue 16) on the Lead target: see CONSENT_MODEL_MAPPINGS. */
  consentModel?: boolean;
}

/** Didomi choices recorded as ContactPointTypeConsent: DataUsePurpose name and channel per purpose or preference value. */
export const CONSENT_MODEL_MAPPINGS = [
  { Purpose_Id__c: PURPOSE, Data_Use_Purpose__c: 'Marketing', Contact_Point_Type__c: 'Email' },
  { Purpose_Id__c: PHONE_PURPOSE, Data_Use_Purpose__c: 'Marketing', Contact_Point_Type__c: 'Phone' },
  { Purpose_Id__c: PURPOSE, Preference_Id__c: PREFERENCE, Value_Id__c: VALUE_WEEKLY, Data_Use_Purpose__c: 'Weekly digest', Contact_Point_Type__c: 'Email' },
];

/** Seeds targets and mappings through the control API (not counted as API calls). */
export async function seedSyncConfig(emu: Emulator, o: SeedOptions = {}) {
  const ids = emu.seed({
    Didomi_Sync_Target__c: [
      {
        Name: 'Leads',
        Object__c: 'Lead',
        Active__c: true,
        Upsert_Mode__c: o.leadUpsert ?? true,
        Match_Field__c: 'Email',
        Creation_Defaults__c: JSON.stringify({ Company: 'Unknown (Didomi)', LastName: 'Unknown' }),
        Deletion_Behavior__c: o.leadDeletion ?? 'Clear Consent Fields',
      },
      ...(o.contact === false
        ? []
        : [{ Name: 'Contacts', Object__c: 'Contact', Active__c: true, Upsert_Mode__c: false, Match_Field__c: 'Email', Deletion_Behavior__c: 'Ignore' }]),
      ...(o.account
        ? [
            {
              Name: 'Person accounts',
              Object__c: 'Account',
              Active__c: true,
              Upsert_Mode__c: false,
              Match_Field__c: 'PersonEmail',
              Deletion_Behavior__c: 'Ignore',
            },
          ]
        : []),
    ],
  });
  const [lead, contact, account] = ids.Didomi_Sync_Target__c;
  const m = (target: string, kind: string, field: string, extra: Record<string, unknown> = {}) => ({
    Target__c: target,
    Kind__c: kind,
    Field_Api_Name__c: field,
    Active__c: true,
    Regulation__c: 'gdpr',
    ...extra,
  });
  const mappings = [
    m(lead, 'Purpose', 'HasOptedOutOfEmail', { Purpose_Id__c: PURPOSE, Invert__c: true }),
    m(lead, 'Purpose', 'DoNotCall', { Purpose_Id__c: PHONE_PURPOSE, Invert__c: true }),
    m(lead, 'Purpose', 'Marketing_Consent_CPRA__c', { Purpose_Id__c: PURPOSE, Regulation__c: 'cpra' }),
    m(lead, 'Preference', 'Newsletter_Topics__c', { Purpose_Id__c: PURPOSE, Preference_Id__c: PREFERENCE, Value_Labels__c: JSON.stringify(VALUE_LABELS) }),
    m(lead, 'Preference Value', 'Weekly_Digest__c', { Purpose_Id__c: PURPOSE, Preference_Id__c: PREFERENCE, Value_Id__c: VALUE_WEEKLY }),
    m(lead, 'User Attribute', 'Consent_Country__c', { Attribute_Path__c: 'country' }),
  ];
  if (contact) {
    mappings.push(
      m(contact, 'Purpose', 'HasOptedOutOfEmail', { Purpose_Id__c: PURPOSE, Invert__c: true }),
      m(contact, 'Preference', 'Newsletter_Topics__c', { Purpose_Id__c: PURPOSE, Preference_Id__c: PREFERENCE, Value_Labels__c: JSON.stringify(VALUE_LABELS) }),
      m(contact, 'Preference Value', 'Weekly_Digest__c', { Purpose_Id__c: PURPOSE, Preference_Id__c: PREFERENCE, Value_Id__c: VALUE_WEEKLY }),
    );
  }
  // Field_Api_Name__c is required on every mapping; a Consent Model mapping names the record's link to its Individual.
  if (o.consentModel) for (const x of CONSENT_MODEL_MAPPINGS) mappings.push(m(lead, 'Consent Model', 'IndividualId', x));
  if (account) mappings.push(m(account, 'Purpose', 'PersonHasOptedOutOfEmail', { Purpose_Id__c: PURPOSE, Invert__c: true }));
  const mids = emu.seed({ Didomi_Field_Mapping__c: mappings });
  return { leadTargetId: lead, contactTargetId: contact, accountTargetId: account, mappingIds: mids.Didomi_Field_Mapping__c };
}
