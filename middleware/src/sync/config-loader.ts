// Reads targets and mappings from the org and checks each mapping against describe: the field
// exists, the integration user can update it, and its type fits Didomi's rules. Invalid mappings
// are reported (as problems) and skipped; they never stop the others.
import { createHash } from 'node:crypto';
import {
  CONTACT_POINT_TYPES,
  DELETION_BEHAVIORS,
  FIELD_MAPPING,
  MAPPING_KINDS,
  SYNC_TARGET,
  TARGET_OBJECTS,
  type ContactPointType,
  type DeletionBehavior,
  type MappingKind,
  type TargetObject,
} from '../salesforce/api-names.ts';
import { fieldTypeAllowed } from './project.ts';
import { consentModelProblem } from './consent-model-check.ts';
import type { ConsentModelMapping, FieldInfo, Mapping, SyncConfig, Target } from './config-types.ts';

const T = SYNC_TARGET.fields;
const M = FIELD_MAPPING.fields;

export const TARGETS_SOQL = `SELECT Id, ${Object.values(T).join(', ')} FROM ${SYNC_TARGET.object} WHERE ${T.active} = true ORDER BY CreatedDate`;
export const MAPPINGS_SOQL = `SELECT Id, ${Object.values(M).join(', ')} FROM ${FIELD_MAPPING.object} WHERE ${M.active} = true ORDER BY CreatedDate`;

function json(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string' || !text.trim()) return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** The parts of an sObject describe the sync reads (REST API Developer Guide, "sObject Describe"). */
export interface Describe {
  deletable?: boolean;
  fields?: {
    name: string;
    type: string;
    updateable?: boolean;
    createable?: boolean;
    length?: number;
    nillable?: boolean;
    defaultedOnCreate?: boolean;
    filterable?: boolean;
  }[];
}

type Row = { Id: string } & Record<string, unknown>;
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function fieldsFromDescribe(describe: Describe | undefined): Map<string, FieldInfo> {
  const out = new Map<string, FieldInfo>();
  for (const f of describe?.fields ?? []) {
    out.set(String(f.name).toLowerCase(), {
      name: f.name,
      type: f.type,
      updateable: !!f.updateable,
      createable: !!f.createable,
      length: f.length ?? 0,
      required: !f.nillable && !!f.createable && !f.defaultedOnCreate && f.type !== 'boolean',
      filterable: f.filterable !== false,
    });
  }
  return out;
}

/** Builds the sync configuration from query results and describes (keyed by object name). */
export function buildConfig(targetRows: Row[], mappingRows: Row[], describes: Map<string, Describe>): SyncConfig {
  const problems: SyncConfig['problems'] = [];
  const targets: Target[] = [];
  const unusable: SyncConfig['unusable'] = [];
  const consentModel: ConsentModelMapping[] = [];
  const seenObjects = new Set<string>();
  let checked: string | null | undefined;
  const modelProblem = () => (checked === undefined ? (checked = consentModelProblem(describes)) : checked); // consent-model-check.ts
  for (const r of targetRows) {
    const object = r[T.targetObject] as TargetObject;
    if (!TARGET_OBJECTS.includes(object) || seenObjects.has(object)) continue; // one active target per object
    seenObjects.add(object);
    const fields = fieldsFromDescribe(describes.get(object));
    let deletion = (DELETION_BEHAVIORS as readonly unknown[]).includes(r[T.deletionBehavior]) ? (r[T.deletionBehavior] as DeletionBehavior) : 'Ignore';
    if (deletion === 'Delete Record' && describes.get(object)?.deletable === false) {
      // Without Delete on the object every deletion would fail; clearing still leaves no consent behind.
      problems.push({
        mappingId: r.Id,
        targetObject: object,
        field: T.deletionBehavior,
        message: `Delete Record: the integration user cannot delete ${object} records (grant Delete in a permission set); consent fields are cleared instead`,
      });
      deletion = 'Clear Consent Fields';
    }
    const matchName = String(r[T.matchField] || 'Email');
    const matchProblem = checkMatchField(object, matchName, fields.get(matchName.toLowerCase()));
    const matchField = fields.get(matchName.toLowerCase())?.name ?? matchName;
    const target: Target = {
      id: r.Id,
      object,
      upsertMode: r[T.upsertMode] === true,
      matchField,
      creationDefaults: json(r[T.creationDefaults]),
      deletionBehavior: deletion,
      mappings: [],
      fields,
    };
    const seen = new Set<string>();
    for (const m of mappingRows.filter((x) => x[M.target] === r.Id)) {
      const kind = m[M.kind] as MappingKind;
      const fieldName = String(m[M.fieldApiName] ?? '');
      const fi = fields.get(fieldName.toLowerCase());
      const problem = (message: string) => problems.push({ mappingId: m.Id, targetObject: object, field: fieldName, message });
      if (!MAPPING_KINDS.includes(kind)) {
        problem(`unknown mapping kind ${kind}`);
        continue;
      }
      if (kind === 'Consent Model') {
        const cm = consentModelMapping(m, consentModel);
        if (typeof cm === 'string') problem(cm);
        else if (modelProblem()) problem(modelProblem()!);
        else consentModel.push(cm);
        continue;
      }
      if (!fi) {
        problem(`field ${object}.${fieldName} does not exist or is not visible to the integration user`);
        continue;
      }
      if (!fi.updateable) {
        problem(`the integration user cannot edit ${object}.${fi.name} (grant it in a permission set)`);
        continue;
      }
      if (!fieldTypeAllowed(kind, fi.type)) {
        problem(
          `a ${kind} mapping cannot write ${object}.${fi.name} of type ${fi.type} (Didomi's rules: purpose and preference value -> checkbox; preference -> text or picklist)`,
        );
        continue;
      }
      const needs: Record<MappingKind, (keyof typeof M)[]> = {
        Purpose: ['purposeId'],
        Preference: ['purposeId', 'preferenceId'],
        'Preference Value': ['purposeId', 'preferenceId', 'valueId'],
        'User Attribute': ['attributePath'],
        'Consent Model': [],
      };
      const missing = needs[kind].filter((k) => !m[M[k]]);
      if (missing.length) {
        problem(`a ${kind} mapping needs ${missing.map((k) => M[k]).join(', ')}`);
        continue;
      }
      if (seen.has(fi.name.toLowerCase())) {
        problem(`${object}.${fi.name} is mapped twice; only the first mapping is used`);
        continue;
      }
      seen.add(fi.name.toLowerCase());
      const labels = json(m[M.valueLabels]);
      const mapping: Mapping = {
        id: m.Id,
        kind,
        purposeId: text(m[M.purposeId]),
        preferenceId: text(m[M.preferenceId]),
        valueId: text(m[M.valueId]),
        attributePath: text(m[M.attributePath]),
        field: fi.name,
        fieldType: fi.type,
        invert: m[M.invert] === true,
        valueLabels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])),
        regulation: String(m[M.regulation] || 'gdpr').toLowerCase(),
      };
      target.mappings.push(mapping);
    }
    if (matchProblem) {
      // The match query would fail with INVALID_FIELD for every user: report it once, skip this target only.
      problems.push({ mappingId: r.Id, targetObject: object, field: matchName, message: matchProblem });
      unusable.push({ target, message: matchProblem });
    } else targets.push(target);
  }
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([targetRows, mappingRows]))
    .digest('hex')
    .slice(0, 16);
  return { targets, problems, unusable, fingerprint, consentModel };
}

/** Match fields the query can use: visible to the integration user, filterable, and holding text. */
function checkMatchField(object: string, name: string, fi: FieldInfo | undefined): string | null {
  if (!fi) return `match field ${object}.${name} does not exist or the integration user cannot read it (grant read access in a permission set)`;
  if (!fi.filterable) return `match field ${object}.${fi.name} cannot be filtered in a query (a long text area?): choose another match field`;
  if (!['string', 'email', 'phone'].includes(fi.type))
    return `match field ${object}.${fi.name} of type ${fi.type} cannot hold a Didomi user id: choose a text or email field`;
  return null;
}

/** A "Consent Model" mapping, or why it cannot be used. It writes no field of its target: Field_Api_Name__c is not read. */
function consentModelMapping(m: Row, seen: ConsentModelMapping[]): ConsentModelMapping | string {
  const purposeId = text(m[M.purposeId]);
  const preferenceId = text(m[M.preferenceId]) || null;
  const valueId = text(m[M.valueId]) || null;
  const purposeName = String(m[M.dataUsePurpose] ?? '').trim();
  const channel = m[M.contactPointType] as ContactPointType;
  if (!purposeId) return `a Consent Model mapping needs ${M.purposeId}`;
  if (!!preferenceId !== !!valueId) return `a Consent Model mapping of a preference value needs both ${M.preferenceId} and ${M.valueId}`;
  if (!purposeName) return `a Consent Model mapping needs ${M.dataUsePurpose} (the Data Use Purpose name)`;
  if (!CONTACT_POINT_TYPES.includes(channel)) return `a Consent Model mapping needs ${M.contactPointType} (one of ${CONTACT_POINT_TYPES.join(', ')})`;
  if (seen.some((x) => x.dataUsePurpose.toLowerCase() === purposeName.toLowerCase() && x.contactPointType === channel))
    return `${purposeName} / ${channel} is mapped twice in the consent model; only the first mapping is used`;
  return {
    id: m.Id,
    purposeId,
    preferenceId,
    valueId,
    dataUsePurpose: purposeName,
    contactPointType: channel,
    regulation: String(m[M.regulation] || 'gdpr').toLowerCase(),
  };
}
