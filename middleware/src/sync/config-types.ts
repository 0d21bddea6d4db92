// Targets and mappings as read from the org (Didomi_Sync_Target__c, Didomi_Field_Mapping__c).
import type { ContactPointType, DeletionBehavior, MappingKind, TargetObject } from '../salesforce/api-names.ts';

export interface FieldInfo {
  name: string;
  type: string; // describe type: boolean, string, textarea, picklist, multipicklist, email, ...
  updateable: boolean;
  createable: boolean;
  length: number;
  required: boolean; // !nillable && createable && !defaultedOnCreate
  filterable: boolean; // usable in a SOQL WHERE (long text areas are not)
}

export interface Mapping {
  id: string;
  kind: MappingKind;
  purposeId: string | null;
  preferenceId: string | null;
  valueId: string | null;
  attributePath: string | null;
  field: string;
  fieldType: string;
  invert: boolean;
  valueLabels: Record<string, string>;
  regulation: string; // lower-case; "any" accepts every regulation
}

export interface Target {
  id: string;
  object: TargetObject;
  upsertMode: boolean;
  matchField: string;
  creationDefaults: Record<string, unknown>;
  deletionBehavior: DeletionBehavior;
  mappings: Mapping[];
  /** Fields of the object (from describe), keyed by lower-case name. */
  fields: Map<string, FieldInfo>;
}

/** A Didomi purpose (or preference value) recorded in Salesforce's consent data model (sync/consent-model.ts). */
export interface ConsentModelMapping {
  id: string;
  purposeId: string;
  preferenceId: string | null;
  valueId: string | null;
  /** DataUsePurpose.Name */
  dataUsePurpose: string;
  contactPointType: ContactPointType;
  regulation: string;
}

export interface SyncConfig {
  targets: Target[];
  /** Mappings of kind "Consent Model", from every target, one per (DataUsePurpose, contact point type). */
  consentModel?: ConsentModelMapping[];
  /** Problems found while validating mappings, reported into the org. */
  problems: { mappingId: string; targetObject: string; field: string; message: string }[];
  /** Targets that cannot be matched (their match field is missing, unreadable or not filterable): skipped, their users dead-lettered. */
  unusable: { target: Target; message: string }[];
  fingerprint: string;
}
