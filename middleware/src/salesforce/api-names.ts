// The one source of truth for every Salesforce API name the middleware reads or writes.
// test/api-names.test.ts checks each of them against the metadata under force-app, so the
// package and the middleware cannot drift apart.

export const TARGET_OBJECTS = ['Lead', 'Contact', 'Account'] as const;
export type TargetObject = (typeof TARGET_OBJECTS)[number];

/** Fields the package adds to Lead, Contact and Account. */
export const RECORD_FIELDS = {
  userId: 'Didomi_User_Id__c', // Text(255), External ID, unique, case-insensitive
  updatedAt: 'Didomi_Consent_Updated_At__c', // DateTime
  snapshot: 'Didomi_Consents__c', // Long Text Area (JSON snapshot, for audit)
} as const;

export const SYNC_TARGET = {
  object: 'Didomi_Sync_Target__c',
  fields: {
    targetObject: 'Object__c', // restricted picklist: Lead | Contact | Account
    active: 'Active__c', // Checkbox
    upsertMode: 'Upsert_Mode__c', // Checkbox
    matchField: 'Match_Field__c', // Text(80), default "Email"
    creationDefaults: 'Creation_Defaults__c', // Long Text Area: JSON object field -> value
    deletionBehavior: 'Deletion_Behavior__c', // restricted picklist, see DELETION_BEHAVIORS
  },
} as const;

export const DELETION_BEHAVIORS = ['Ignore', 'Clear Consent Fields', 'Delete Record'] as const;
export type DeletionBehavior = (typeof DELETION_BEHAVIORS)[number];

export const FIELD_MAPPING = {
  object: 'Didomi_Field_Mapping__c',
  fields: {
    target: 'Target__c', // Master-Detail(Didomi_Sync_Target__c)
    kind: 'Kind__c', // restricted picklist, see MAPPING_KINDS
    purposeId: 'Purpose_Id__c', // Text(255)
    preferenceId: 'Preference_Id__c', // Text(255)
    valueId: 'Value_Id__c', // Text(255), for kind "Preference Value"
    attributePath: 'Attribute_Path__c', // Text(255), for kind "User Attribute", e.g. "country" or "metadata.segment"
    fieldApiName: 'Field_Api_Name__c', // Text(80), the target object's field
    invert: 'Invert__c', // Checkbox
    valueLabels: 'Value_Labels__c', // Long Text Area: JSON object value id -> label
    regulation: 'Regulation__c', // Text(40), default "gdpr"; "any" accepts every regulation
    active: 'Active__c', // Checkbox, default true
    dataUsePurpose: 'Data_Use_Purpose__c', // Text(80), for kind "Consent Model": DataUsePurpose.Name
    contactPointType: 'Contact_Point_Type__c', // restricted picklist, see CONTACT_POINT_TYPES, for kind "Consent Model"
  },
} as const;

export const MAPPING_KINDS = ['Purpose', 'Preference', 'Preference Value', 'User Attribute', 'Consent Model'] as const;
export type MappingKind = (typeof MAPPING_KINDS)[number];

/**
 * Salesforce's consent data model (Object Reference: Individual, DataUsePurpose, ContactPointTypeConsent;
 * available when Data Protection and Privacy is enabled). The package adds one external id to each
 * object the sync upserts, so a retry never duplicates a record.
 */
export const CONSENT_MODEL = {
  individual: { object: 'Individual', fields: { userId: 'Didomi_User_Id__c' } }, // Text(255), External ID, unique
  purpose: { object: 'DataUsePurpose', fields: { key: 'Didomi_Purpose_Key__c' } }, // Text(255), External ID, unique, case-insensitive
  consent: { object: 'ContactPointTypeConsent', fields: { key: 'Didomi_Consent_Key__c' } }, // Text(255), External ID, unique
  /** The lookup from each record to its Individual (Object Reference: Lead, Contact; Account.PersonIndividualId for person accounts). */
  recordLink: { Lead: 'IndividualId', Contact: 'IndividualId', Account: 'PersonIndividualId' } as Record<string, string>,
  captureSource: 'Didomi',
} as const;

/** ContactPointTypeConsent.ContactPointType, a restricted picklist (Object Reference). */
export const CONTACT_POINT_TYPES = ['Email', 'MailingAddress', 'Phone', 'Social', 'Web'] as const;
export type ContactPointType = (typeof CONTACT_POINT_TYPES)[number];

export const SYNC_STATUS = {
  object: 'Didomi_Sync_Status__c',
  fields: {
    instanceId: 'Instance_Id__c', // Text(255), External ID, unique: one record per middleware deployment
    lastHeartbeat: 'Last_Heartbeat__c', // DateTime
    lastSuccess: 'Last_Success__c', // DateTime
    statsDate: 'Stats_Date__c', // Date: the day the *_Today__c counters belong to
    eventsAcceptedToday: 'Events_Accepted_Today__c', // Number(18,0)
    eventsSyncedToday: 'Events_Synced_Today__c', // Number(18,0)
    eventsFailedToday: 'Events_Failed_Today__c', // Number(18,0)
    queueDepth: 'Queue_Depth__c', // Number(18,0)
    oldestPendingSeconds: 'Oldest_Pending_Seconds__c', // Number(18,0)
    apiUsed: 'Api_Usage_Used__c', // Number(18,0), from Sforce-Limit-Info
    apiMax: 'Api_Usage_Max__c', // Number(18,0)
    lastError: 'Last_Error__c', // Long Text Area
    lastErrorAt: 'Last_Error_At__c', // DateTime
    version: 'Version__c', // Text(40)
  },
} as const;

export const SYNC_ERROR = {
  object: 'Didomi_Sync_Error__c',
  fields: {
    key: 'Dead_Letter_Key__c', // Text(255), External ID, unique: the middleware's id, so a retried write never duplicates
    organizationUserId: 'Organization_User_Id__c', // Text(255)
    didomiUserId: 'Didomi_User_Id__c', // Text(255)
    eventId: 'Event_Id__c', // Text(255)
    targetObject: 'Target_Object__c', // Text(40)
    recordId: 'Record_Id__c', // Text(18)
    code: 'Error_Code__c', // Text(255)
    message: 'Message__c', // Long Text Area
    attempts: 'Attempts__c', // Number(9,0)
    status: 'Status__c', // restricted picklist, see ERROR_STATUSES, default "Open"
    firstFailedAt: 'First_Failed_At__c', // DateTime
    lastFailedAt: 'Last_Failed_At__c', // DateTime
    payload: 'Payload__c', // Long Text Area: the field values that could not be written (JSON)
  },
} as const;

export const ERROR_STATUSES = ['Open', 'Retry Requested', 'Dismissed', 'Resolved'] as const;
export type ErrorStatus = (typeof ERROR_STATUSES)[number];

/** An admin's "retry / dismiss every dead letter with this code" (sync/bulk-requests.ts carries it out). */
export const BULK_REQUEST = {
  object: 'Didomi_Sync_Bulk_Request__c',
  fields: {
    action: 'Action__c', // restricted picklist, see BULK_ACTIONS
    code: 'Error_Code__c', // Text(255), required
    fromStatus: 'From_Status__c', // restricted picklist: Open | Retry Requested | Dismissed, default "Open"
    targetObject: 'Target_Object__c', // Text(40), blank = every object
    status: 'Status__c', // restricted picklist, see BULK_REQUEST_STATUSES, default "Pending"
    affected: 'Records_Affected__c', // Number(9,0)
    processedAt: 'Processed_At__c', // DateTime
    message: 'Message__c', // Text(255)
  },
} as const;

export const BULK_ACTIONS = { Retry: 'Retry Requested', Dismiss: 'Dismissed' } as const;
export const BULK_REQUEST_STATUSES = ['Pending', 'Done', 'Failed'] as const;

/** Didomi's purposes, preferences and values with their names, for the admin tab's pickers (didomi/catalogue.ts). */
export const CATALOGUE = {
  object: 'Didomi_Catalogue_Entry__c',
  fields: {
    kind: 'Kind__c', // restricted picklist: Purpose | Preference | Preference Value
    didomiId: 'Didomi_Id__c', // Text(255)
    preferenceId: 'Preference_Id__c', // Text(255): a value's preference
    key: 'Entry_Key__c', // Text(255), External ID, unique, case-sensitive: kind|preference|id
    names: 'Names__c', // Long Text Area: JSON language -> name
    lastSeenAt: 'Last_Seen_At__c', // DateTime
  },
} as const;

export const PERMISSION_SETS = {
  admin: 'Didomi_Sync_Admin',
  integration: 'Didomi_Sync_Integration',
} as const;

/** Sent as `Sforce-Call-Options: client=...` so change events can tell our writes apart. */
export const CALL_OPTIONS_CLIENT = 'DidomiConsentSync';
