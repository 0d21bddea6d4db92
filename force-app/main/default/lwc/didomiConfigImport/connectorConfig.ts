// Reads the configuration of Didomi's own Salesforce connector (integration `sf-sales-cloud`) and
// turns it into this package's target and mappings, refusing precisely what cannot be carried over.
// Shape (Didomi developer docs, "Salesforce Sales & Service Cloud", Configuration > Example; seeds/001):
//   { "type_id": "sf-sales-cloud", "authentication": {...}, "properties": { "sobject": ["Lead"] },
//     "mappings": [{ "id": "<Salesforce field>", "value": "<Didomi property>", "type": "..." }],
//     "upsert_mode": true }
// One configuration syncs one object ("create 2 separate configurations" for Leads and Contacts).
// The Didomi property is read in the flattened form Didomi documents for its integrations
// (reference/didomi.md): `consents_purposes_<purpose>_enabled` (a purpose) and
// `consents_purposes_<purpose>_preferences_<preference>_channel_<channel>_enabled` (one channel of
// a preference: imported as a preference value). Anything else is refused with its reason.
import { LABELS, format } from 'c/didomiSyncLabels';
import { OPT_OUT_FIELDS, TARGET_OBJECTS, emptyMapping, requiredOnCreate, validateMapping, type MappingDraft } from 'c/didomiSyncRules';

export const CONNECTOR_TYPE = 'sf-sales-cloud';

export interface ImportRow {
  index: number;
  field: string;
  source: string;
  draft: MappingDraft | null;
  refusal: string | null;
  note: string | null;
}

export interface ParsedConfig {
  object: string;
  upsertMode: boolean;
  rows: ImportRow[];
}

const PURPOSE = /^consents_purposes_(.+)_enabled$/;
const CHANNEL = /^consents_purposes_(.+?)_preferences_(.+?)_channel_(.+)_enabled$/;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The Didomi property a mapping reads, as a draft mapping, or why it cannot be imported. */
function toDraft(field: string, value: unknown, type: unknown): { draft: MappingDraft | null; refusal: string | null; note: string | null } {
  if (type === 'pmp-widget-id') return { draft: null, refusal: format(LABELS.Import_Widget_Id, String(value)), note: null };
  if (typeof value !== 'string' || !value.trim()) return { draft: null, refusal: LABELS.Import_No_Value, note: null };
  const v = value.trim();
  const channel = CHANNEL.exec(v);
  const purpose = channel ? null : PURPOSE.exec(v);
  const draft = emptyMapping();
  draft.field = field;
  if (channel) Object.assign(draft, { kind: 'Preference Value', purposeId: channel[1], preferenceId: channel[2], valueId: channel[3] });
  else if (purpose && !purpose[1].includes('_preferences_')) Object.assign(draft, { kind: 'Purpose', purposeId: purpose[1] });
  else return { draft: null, refusal: format(LABELS.Import_Unknown_Value, v), note: null };
  // Didomi's connector writes consent given as true. Into an opt-out field that would turn a refusal
  // into "may contact": imported inverted, as this package maps opt-out fields.
  if (OPT_OUT_FIELDS.includes(field)) {
    draft.invert = true;
    return { draft, refusal: null, note: LABELS.Import_Inverted };
  }
  return { draft, refusal: null, note: null };
}

/** Parses pasted or uploaded JSON; returns the error in plain words when it is not a usable configuration. */
export function parseConnectorConfig(text: string): { config: ParsedConfig | null; error: string | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { config: null, error: format(LABELS.Import_Bad_Json, (e as Error).message) };
  }
  if (!isObject(json)) return { config: null, error: format(LABELS.Import_Bad_Json, 'not an object') };
  if (json.type_id !== CONNECTOR_TYPE) return { config: null, error: format(LABELS.Import_Wrong_Type, String(json.type_id ?? ''), CONNECTOR_TYPE) };
  const sobject = isObject(json.properties) ? json.properties.sobject : undefined;
  const objects = (Array.isArray(sobject) ? sobject : [sobject]).filter((o) => o !== undefined);
  if (objects.length !== 1) return { config: null, error: LABELS.Import_One_Object };
  const object = String(objects[0]);
  if (!TARGET_OBJECTS.includes(object)) return { config: null, error: format(LABELS.Import_Unknown_Object, object, TARGET_OBJECTS.join(', ')) };
  if (json.upsert_mode !== undefined && typeof json.upsert_mode !== 'boolean') return { config: null, error: LABELS.Import_Bad_Upsert };
  if (!Array.isArray(json.mappings) || json.mappings.length === 0) return { config: null, error: LABELS.Import_No_Mappings };
  const rows = json.mappings.map((m, index): ImportRow => {
    const field = isObject(m) && typeof m.id === 'string' ? m.id.trim() : '';
    const source = isObject(m) ? String(m.value ?? '') : '';
    if (!field) return { index, field, source, draft: null, refusal: LABELS.Import_No_Field, note: null };
    return { index, field, source, ...toDraft(field, isObject(m) ? m.value : undefined, isObject(m) ? m.type : undefined) };
  });
  return { config: { object, upsertMode: json.upsert_mode === true, rows }, error: null };
}

/** Checks every row against the object's describe and the target's mappings (and the rows before it). */
export function checkRows(rows: ImportRow[], objectInfo: UiObjectInfo, existing: MappingDraft[]): ImportRow[] {
  const accepted: MappingDraft[] = [...existing];
  return rows.map((r) => {
    if (!r.draft) return r;
    const why = validateMapping(r.draft, objectInfo, accepted);
    if (why) return { ...r, refusal: why };
    accepted.push(r.draft);
    return r;
  });
}

/** Upsert mode only when nothing the object requires on create is missing: the import has no creation defaults. */
export function upsertRefusal(config: ParsedConfig, objectInfo: UiObjectInfo, matchField = 'Email'): string | null {
  if (!config.upsertMode) return null;
  const missing = requiredOnCreate(objectInfo).filter((f) => f !== matchField);
  return missing.length ? format(LABELS.Import_Upsert_Needs_Defaults, config.object, missing.join(', ')) : null;
}
