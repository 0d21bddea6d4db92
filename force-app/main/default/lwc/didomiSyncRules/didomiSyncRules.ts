// What the admin tab checks before it saves anything, kept free of UI code so it is easy to test.
// Didomi's Salesforce mapping rules (shared/reference/didomi.md, "Salesforce mapping rules";
// seeds/000: "Purpose -> Boolean, Preference value -> Boolean"): purpose and preference value ->
// checkbox; preference -> text, text area, picklist or multi-select picklist. User attributes are
// written as text. The middleware applies the same table (middleware/src/sync/project.ts) and
// refuses a mapping the tab would refuse, so an invalid mapping never reaches a sync.
import { LABELS, format } from 'c/didomiSyncLabels';

export type MappingKind = 'Purpose' | 'Preference' | 'Preference Value' | 'User Attribute' | 'Consent Model';
export const MAPPING_KINDS: MappingKind[] = ['Purpose', 'Preference', 'Preference Value', 'User Attribute', 'Consent Model'];
/** ContactPointTypeConsent.ContactPointType (Object Reference), for kind Consent Model. */
export const CONTACT_POINT_TYPES = ['Email', 'MailingAddress', 'Phone', 'Social', 'Web'];
/** A Consent Model mapping writes no field of its own: it links each record's Individual (middleware/src/sync/consent-model.ts). */
export const CONSENT_MODEL_FIELD = 'IndividualId';
export const TARGET_OBJECTS = ['Lead', 'Contact', 'Account'];
export const DELETION_BEHAVIORS = ['Ignore', 'Clear Consent Fields', 'Delete Record'];
export const ERROR_STATUSES = ['Open', 'Retry Requested', 'Dismissed', 'Resolved'];
/** Standard opt-out checkboxes: true means "do not contact", so a consent written there is inverted. */
export const OPT_OUT_FIELDS = ['HasOptedOutOfEmail', 'HasOptedOutOfFax', 'DoNotCall'];

/** UI API dataType values (ObjectInfo.fields[].dataType) each kind may write. */
const ALLOWED_TYPES: Record<MappingKind, string[]> = {
  Purpose: ['Boolean'],
  'Preference Value': ['Boolean'],
  Preference: ['String', 'TextArea', 'Picklist', 'MultiPicklist'],
  'User Attribute': ['String', 'TextArea', 'Picklist', 'Email', 'Phone'],
  'Consent Model': [],
};

/** Plain words for a UI API data type, as Setup names them. */
const TYPE_WORDS: Record<string, string> = {
  Boolean: 'checkbox',
  String: 'text',
  TextArea: 'text area',
  Picklist: 'picklist',
  MultiPicklist: 'multi-select picklist',
  Email: 'email',
  Phone: 'phone',
  Double: 'number',
  Int: 'number',
  Currency: 'currency',
  Percent: 'percent',
  Date: 'date',
  DateTime: 'date/time',
  Reference: 'lookup',
  Url: 'URL',
};
export const typeWord = (dataType: string): string => TYPE_WORDS[dataType] ?? dataType;

/** Which Didomi ids each kind needs, by draft property. */
const REQUIRED: Record<MappingKind, (keyof MappingDraft)[]> = {
  Purpose: ['purposeId'],
  Preference: ['purposeId', 'preferenceId'],
  'Preference Value': ['purposeId', 'preferenceId', 'valueId'],
  'User Attribute': ['attributePath'],
  'Consent Model': ['purposeId', 'dataUsePurpose', 'contactPointType'],
};
const DRAFT_LABELS: Partial<Record<keyof MappingDraft, string>> = {
  purposeId: LABELS.Mapping_Purpose_Id,
  preferenceId: LABELS.Mapping_Preference_Id,
  valueId: LABELS.Mapping_Value_Id,
  attributePath: LABELS.Mapping_Attribute_Path,
  dataUsePurpose: LABELS.Mapping_Data_Use_Purpose,
  contactPointType: LABELS.Mapping_Contact_Point_Type,
  field: LABELS.Mapping_Field,
  kind: LABELS.Mapping_Kind,
};

export interface MappingDraft {
  /** Set when editing a saved mapping. */
  id?: string;
  kind: MappingKind | '';
  purposeId: string;
  preferenceId: string;
  valueId: string;
  attributePath: string;
  /** Kind Consent Model: DataUsePurpose name and ContactPointType. */
  dataUsePurpose: string;
  contactPointType: string;
  field: string;
  invert: boolean;
  valueLabels: string;
  regulation: string;
  active: boolean;
}

export interface FieldOption {
  label: string;
  value: string;
  dataType: string;
}

export function emptyMapping(): MappingDraft {
  return {
    kind: '',
    purposeId: '',
    preferenceId: '',
    valueId: '',
    attributePath: '',
    dataUsePurpose: '',
    contactPointType: '',
    field: '',
    invert: false,
    valueLabels: '',
    regulation: '',
    active: true,
  };
}

export function fieldTypeAllowed(kind: MappingKind, dataType: string): boolean {
  return ALLOWED_TYPES[kind].includes(dataType);
}

/** The fields a mapping of this kind can write: updateable, of an allowed type, matching the search, sorted by label. */
export function fieldOptions(objectInfo: UiObjectInfo | undefined, kind: MappingKind | '', search = ''): FieldOption[] {
  if (!objectInfo || !kind) return [];
  const needle = search.trim().toLowerCase();
  return Object.values(objectInfo.fields)
    .filter((f) => f.updateable && fieldTypeAllowed(kind, f.dataType))
    .filter((f) => !needle || f.label.toLowerCase().includes(needle) || f.apiName.toLowerCase().includes(needle))
    .map((f) => ({ label: `${f.label} (${f.apiName}) · ${typeWord(f.dataType)}`, value: f.apiName, dataType: f.dataType }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

function isJsonObject(text: string): boolean {
  if (!text.trim()) return true;
  try {
    const v = JSON.parse(text);
    return !!v && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** The key that identifies where a mapping reads from in Didomi (two mappings must not read the same thing into one target twice). */
export function sourceKey(
  m: Pick<MappingDraft, 'kind' | 'purposeId' | 'preferenceId' | 'valueId' | 'attributePath'> &
    Partial<Pick<MappingDraft, 'dataUsePurpose' | 'contactPointType'>>,
): string {
  // The consent model keeps one consent per (DataUsePurpose, channel), as the middleware does.
  if (m.kind === 'Consent Model') return `cm:${(m.dataUsePurpose ?? '').trim().toLowerCase()}:${m.contactPointType}`;
  return m.kind === 'User Attribute' ? `attr:${m.attributePath}` : `${m.kind}:${m.purposeId}:${m.preferenceId}:${m.valueId}`;
}

/** Why this mapping cannot be saved, in plain words, or null when it can. `existing` are the target's mappings (the draft itself is skipped). */
export function validateMapping(draft: MappingDraft, objectInfo: UiObjectInfo | undefined, all: MappingDraft[]): string | null {
  const existing = all.filter((m) => !draft.id || m.id !== draft.id);
  if (!draft.kind) return format(LABELS.Mapping_Required, LABELS.Mapping_Kind);
  if (draft.kind === 'Consent Model') return validateConsentModel(draft, existing);
  const missing = [...REQUIRED[draft.kind], 'field' as const].filter((k) => !String(draft[k] ?? '').trim());
  if (missing.length) return format(LABELS.Mapping_Required, missing.map((k) => DRAFT_LABELS[k]).join(', '));
  const info = objectInfo?.fields[draft.field];
  if (!objectInfo || !info || !info.updateable) return format(LABELS.Mapping_Unknown_Field, draft.field, objectInfo?.label ?? '');
  if (!fieldTypeAllowed(draft.kind, info.dataType)) {
    const allowed = [...new Set(ALLOWED_TYPES[draft.kind].map(typeWord))].join(', ');
    return format(LABELS.Mapping_Incompatible, `${info.label} (${info.apiName})`, typeWord(info.dataType), draft.kind, allowed);
  }
  if (!isJsonObject(draft.valueLabels)) return LABELS.Mapping_Bad_Labels;
  const sameField = existing.find((m) => m.field.toLowerCase() === draft.field.toLowerCase());
  if (sameField) return format(LABELS.Mapping_Duplicate_Field, info.label);
  const sameSource = existing.find((m) => sourceKey(m) === sourceKey(draft));
  if (sameSource) return format(LABELS.Mapping_Duplicate_Source, draft.kind.toLowerCase(), sameSource.field);
  return null;
}

function validateConsentModel(draft: MappingDraft, existing: MappingDraft[]): string | null {
  const missing = REQUIRED['Consent Model'].filter((k) => !String(draft[k] ?? '').trim());
  if (missing.length) return format(LABELS.Mapping_Required, missing.map((k) => DRAFT_LABELS[k]).join(', '));
  if (!CONTACT_POINT_TYPES.includes(draft.contactPointType)) return format(LABELS.Mapping_Required, LABELS.Mapping_Contact_Point_Type);
  const same = existing.find((m) => sourceKey(m) === sourceKey(draft));
  if (same) return format(LABELS.Mapping_Duplicate_Source, draft.kind.toLowerCase(), `${draft.dataUsePurpose} / ${draft.contactPointType}`);
  return null;
}

export interface TargetDraft {
  id?: string;
  object: string;
  active: boolean;
  upsertMode: boolean;
  matchField: string;
  creationDefaults: string;
  deletionBehavior: string;
}

export function emptyTarget(): TargetDraft {
  return { object: '', active: true, upsertMode: false, matchField: 'Email', creationDefaults: '', deletionBehavior: 'Ignore' };
}

/** Fields a create must fill (not nillable, createable, not defaulted, not a checkbox), as the UI API describes them. */
export function requiredOnCreate(objectInfo: UiObjectInfo | undefined): string[] {
  if (!objectInfo) return [];
  return Object.values(objectInfo.fields)
    .filter((f) => f.createable && !f.nillable && !f.defaultedOnCreate && f.dataType !== 'Boolean')
    .map((f) => f.apiName)
    .sort();
}

/** Why this target cannot be saved, or null. `others` are the other targets; `objectInfo` describes draft.object. */
export function validateTarget(draft: TargetDraft, others: TargetDraft[], objectInfo: UiObjectInfo | undefined): string | null {
  if (!draft.object) return format(LABELS.Mapping_Required, LABELS.Target_Object);
  if (others.some((t) => t.id !== draft.id && t.object === draft.object)) return format(LABELS.Target_Duplicate, draft.object);
  if (!draft.matchField.trim()) return LABELS.Target_Missing_Match;
  if (!isJsonObject(draft.creationDefaults)) return LABELS.Target_Bad_Defaults;
  if (draft.upsertMode && objectInfo) {
    const defaults = draft.creationDefaults.trim() ? (JSON.parse(draft.creationDefaults) as Record<string, unknown>) : {};
    const missing = requiredOnCreate(objectInfo).filter((f) => f !== draft.matchField && defaults[f] === undefined);
    if (missing.length) return format(LABELS.Target_Missing_Defaults, missing.join(', '));
  }
  return null;
}

/** Flattens a UI API GraphQL connection (edges[].node with {value} fields) into plain rows. */
export function nodes(connection: any): Record<string, any>[] {
  const edges: any[] = connection?.edges ?? [];
  return edges.map(({ node }) => {
    const row: Record<string, any> = {};
    for (const [k, v] of Object.entries(node ?? {})) row[k] = v && typeof v === 'object' && 'value' in (v as object) ? (v as UiField).value : v;
    return row;
  });
}

/**
 * A list's graphql wire result: the connection of `object` once it has arrived, or the error to show
 * (the rows already shown stay); null for the wire's first, empty value, while the list loads.
 */
export function listResult(result: GraphQLResult, object: string): { connection: any; error: string } | null {
  if (result.errors?.length) return { connection: null, error: reduceErrors(result.errors) };
  const connection = result.data?.uiapi?.query?.[object];
  return connection ? { connection, error: '' } : null;
}

/** The new value of a lightning-input/combobox/textarea change: checkboxes send { checked }, the others { value }. */
export function changedValue(event: Event): unknown {
  const detail = (event as CustomEvent).detail ?? {};
  return 'checked' in detail ? detail.checked : (detail.value ?? (event.target as HTMLInputElement).value);
}

/** Human age of a timestamp ("45 s", "3 min", "2 h", "4 d"). */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** A heartbeat older than three intervals (the middleware beats every HEARTBEAT_MS, 60 s by default) means the middleware is not running. */
export const STALE_AFTER_MS = 3 * 60_000;
export function isStale(heartbeatIso: string | null | undefined, now: number): boolean {
  if (!heartbeatIso) return true;
  const t = Date.parse(heartbeatIso);
  return Number.isNaN(t) || now - t > STALE_AFTER_MS;
}

/** One readable message from whatever LDS, the UI API or GraphQL returned (after lwc-recipes' ldsUtils.reduceErrors). */
export function reduceErrors(errors: unknown): string {
  const list = Array.isArray(errors) ? errors : [errors];
  const out: string[] = [];
  for (const e of list as any[]) {
    if (!e) continue;
    if (typeof e === 'string') out.push(e);
    else if (Array.isArray(e.body)) out.push(...e.body.map((b: any) => b?.message).filter(Boolean));
    else if (e.body?.output?.fieldErrors && Object.keys(e.body.output.fieldErrors).length) {
      for (const errs of Object.values<any[]>(e.body.output.fieldErrors)) out.push(...errs.map((x) => x.message));
    } else if (e.body?.output?.errors?.length) out.push(...e.body.output.errors.map((x: any) => x.message));
    else if (typeof e.body?.message === 'string') out.push(e.body.message);
    else if (typeof e.message === 'string') out.push(e.message);
    else if (typeof e.statusText === 'string') out.push(e.statusText);
  }
  return [...new Set(out)].join(' ');
}
