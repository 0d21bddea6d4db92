// UI API representations of the emulator's schema and rows: ObjectInfo, field values and Record, in
// the shapes the User Interface API documents (UI API Developer Guide: "Object Info", "Record",
// "Field Value"), so the admin tab's LDS code reads them as it would in an org.
import { isLongText, type FieldDef, type ObjectDef } from '../schema.ts';
import type { Org, SfRecord, User } from '../org.ts';

/** Describe types to UI API dataType names (UI API Developer Guide, "Field": dataType). */
const DATA_TYPES: Record<string, string> = {
  id: 'String',
  string: 'String',
  textarea: 'TextArea',
  boolean: 'Boolean',
  datetime: 'DateTime',
  date: 'Date',
  double: 'Double',
  int: 'Int',
  picklist: 'Picklist',
  multipicklist: 'MultiPicklist',
  email: 'Email',
  phone: 'Phone',
  reference: 'Reference',
};
export const uiDataType = (fd: FieldDef) => DATA_TYPES[fd.type] ?? 'String';

/** The master record type every object without record types reports. */
export const MASTER_RECORD_TYPE_ID = '012000000000000AAA';

export function fieldInfo(org: Org, user: User | null, def: ObjectDef, fd: FieldDef) {
  const access = org.access(user, def, fd);
  const system = !fd.createable && !fd.updateable;
  return {
    apiName: fd.name,
    calculated: false,
    compound: false,
    compoundComponentName: null,
    compoundFieldName: null,
    controllerName: null,
    controllingFields: [],
    createable: fd.createable && access.editable,
    custom: fd.custom,
    dataType: uiDataType(fd),
    // OwnerId defaults to the running user (describe: defaultedOnCreate true), so it is never a required input.
    defaultedOnCreate: system || fd.name === 'OwnerId' || fd.type === 'boolean' || fd.defaultValue !== null || !!fd.autoNumber,
    extraTypeInfo: fd.type === 'textarea' ? 'PlainTextArea' : null,
    filterable: !isLongText(fd),
    filteredLookupInfo: null,
    highScaleNumber: false,
    htmlFormatted: false,
    inlineHelpText: null,
    label: fd.label,
    length: fd.length,
    nameField: fd.name === 'Name',
    polymorphicForeignKey: false,
    precision: fd.precision ?? 0,
    reference: fd.type === 'reference',
    referenceTargetField: null,
    referenceToInfos: fd.referenceTo.map((apiName) => ({ apiName, nameFields: ['Name'] })),
    relationshipName: fd.type === 'reference' && fd.name.endsWith('__c') ? fd.name.replace(/__c$/, '__r') : null,
    required: !fd.nillable && fd.createable && fd.type !== 'boolean' && fd.name !== 'OwnerId',
    scale: fd.scale ?? 0,
    searchPrefilterable: false,
    sortable: !isLongText(fd) && fd.type !== 'multipicklist',
    unique: fd.unique,
    updateable: fd.updateable && access.editable,
    externalId: fd.externalId,
    nillable: fd.nillable,
  };
}

/** GET /ui-api/object-info/{objectApiName}: fields hidden by field-level security are left out, as in an org. */
export function objectInfo(org: Org, user: User | null, def: ObjectDef) {
  const fields: Record<string, ReturnType<typeof fieldInfo>> = {};
  for (const fd of org.visibleFields(user, def)) fields[fd.name] = fieldInfo(org, user, def, fd);
  const a = org.objectAccess(user, def); // object permissions, as in describe
  return {
    apiName: def.name,
    associateEntityType: null,
    associateParentEntity: null,
    childRelationships: [],
    createable: a.create,
    custom: def.custom,
    defaultRecordTypeId: MASTER_RECORD_TYPE_ID,
    deletable: a.del,
    dependentFields: {},
    feedEnabled: false,
    fields,
    keyPrefix: def.keyPrefix,
    label: def.label,
    labelPlural: def.labelPlural,
    layoutable: true,
    mruEnabled: true,
    nameFields: def.fields.has('name') ? ['Name'] : [],
    queryable: a.read,
    recordTypeInfos: {
      [MASTER_RECORD_TYPE_ID]: { available: true, defaultRecordTypeMapping: true, master: true, name: 'Master', recordTypeId: MASTER_RECORD_TYPE_ID },
    },
    searchable: true,
    themeInfo: null,
    updateable: a.edit,
  };
}

/** UI API and GraphQL datetimes are ISO 8601 in UTC with milliseconds ("2026-11-24T10:00:00.000Z"). */
export function uiValue(fd: FieldDef, v: unknown): unknown {
  if (v === undefined) return null;
  if (fd.type === 'datetime' && typeof v === 'string') return new Date(Date.parse(v)).toISOString();
  return v;
}

/** { value, displayValue }: picklists show their label; other types have no display value here. */
export function fieldValue(fd: FieldDef, v: unknown) {
  const value = uiValue(fd, v);
  let displayValue: string | null = null;
  if (fd.type === 'picklist' && typeof value === 'string') displayValue = fd.picklistValues.find((p) => p.value === value)?.label ?? value;
  return { displayValue, value };
}

/** A Record representation with the requested fields (all visible fields when none are named). */
export function recordRep(org: Org, user: User | null, def: ObjectDef, rec: SfRecord, names?: string[]) {
  const fields: Record<string, { displayValue: string | null; value: unknown }> = {};
  const fds = names ? names.map((n) => org.field(user, def, n)).filter((x): x is FieldDef => !!x) : org.visibleFields(user, def);
  for (const fd of fds) fields[fd.name] = fieldValue(fd, rec[fd.name]);
  const modstamp = uiValue(def.fields.get('systemmodstamp')!, rec.SystemModstamp);
  return {
    apiName: def.name,
    childRelationships: {},
    eTag: `${rec.Id}-${modstamp}`,
    fields,
    id: rec.Id,
    lastModifiedById: null,
    lastModifiedDate: uiValue(def.fields.get('lastmodifieddate')!, rec.LastModifiedDate),
    recordTypeId: MASTER_RECORD_TYPE_ID,
    recordTypeInfo: null,
    systemModstamp: modstamp,
    weakEtag: Date.parse(String(modstamp)) || 0,
  };
}
