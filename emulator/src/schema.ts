// The org's schema: standard Lead/Contact/Account fields a consent sync touches, plus every
// object and field under force-app (read from the metadata XML at start), plus optional
// customer-specific fields (an org always has its own), and field-level security from the
// permission sets assigned to the API user.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { consentModelObjects, PERSON_ACCOUNT_CONSENT_FIELDS } from './consent-model-schema.ts';

export type FieldType =
  'id' | 'string' | 'textarea' | 'boolean' | 'datetime' | 'date' | 'double' | 'int' | 'picklist' | 'multipicklist' | 'email' | 'phone' | 'reference';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  custom: boolean;
  nillable: boolean;
  /** Required on create (REQUIRED_FIELD_MISSING), like Lead.Company. */
  requiredOnCreate: boolean;
  createable: boolean;
  updateable: boolean;
  externalId: boolean;
  unique: boolean;
  caseSensitive: boolean;
  picklistValues: { value: string; label: string; default: boolean }[];
  restrictedPicklist: boolean;
  referenceTo: string[];
  defaultValue: unknown;
  autoNumber?: string;
  /** Governed by permission-set field permissions: package custom fields (not required ones) and the standard fields
   *  Setup lists under field-level security. The integration profile grants none of them. */
  fls?: boolean;
  /** The permission-set field this one's access follows, when not its own (person account fields follow Contact's). */
  flsField?: string;
  precision?: number;
  scale?: number;
}

/** Long text areas (and rich text) cannot be filtered or sorted in SOQL (SOQL and SOSL Reference, "WHERE";
 *  Object Reference, field properties: Filter, Sort). Plain text areas (255) can. */
export const isLongText = (fd: FieldDef) => fd.type === 'textarea' && fd.length > 255;

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  fields: Map<string, FieldDef>; // keyed by lower-case name
  /** Lower-case names of the unique fields, for fast duplicate checks. */
  uniqueFields: string[];
}

export interface ObjectAccess {
  read: boolean;
  create: boolean;
  edit: boolean;
  del: boolean;
}

export interface FieldAccess {
  readable: boolean;
  editable: boolean;
}

export interface ExtraFieldSpec {
  name: string;
  label?: string;
  type: FieldType;
  length?: number;
  values?: string[];
  restricted?: boolean;
  /** An External ID without Unique: several records may share a value (upsert then answers 300). */
  externalId?: boolean;
}

export function f(name: string, type: FieldType, o: Partial<FieldDef> = {}): FieldDef {
  const system = ['Id', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'IsDeleted', 'Name'].includes(name);
  return {
    name,
    label:
      o.label ??
      name
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .replace(/__c$/, '')
        .replace(/_/g, ' '),
    type,
    length: o.length ?? (type === 'string' || type === 'email' || type === 'phone' ? 255 : type === 'id' || type === 'reference' ? 18 : 0),
    custom: name.endsWith('__c'),
    nillable: o.nillable ?? (type !== 'boolean' && !system),
    requiredOnCreate: false,
    createable: !system,
    updateable: !system,
    externalId: false,
    unique: false,
    caseSensitive: false,
    picklistValues: [],
    restrictedPicklist: false,
    referenceTo: [],
    defaultValue: type === 'boolean' ? false : null,
    ...o,
  };
}

export const audit = () => [
  f('Id', 'id', { nillable: false, createable: false, updateable: false, length: 18 }),
  f('IsDeleted', 'boolean', { createable: false, updateable: false }),
  f('CreatedDate', 'datetime', { createable: false, updateable: false, nillable: false }),
  f('LastModifiedDate', 'datetime', { createable: false, updateable: false, nillable: false }),
  f('SystemModstamp', 'datetime', { createable: false, updateable: false, nillable: false }),
  f('OwnerId', 'reference', { referenceTo: ['User'], nillable: false, createable: true, updateable: true }),
  // Who created / last changed the record: lets a poller tell the integration user's writes from people's.
  f('CreatedById', 'reference', { referenceTo: ['User'], createable: false, updateable: false }),
  f('LastModifiedById', 'reference', { referenceTo: ['User'], createable: false, updateable: false }),
];

/** Standard objects: the subset of fields a consent sync touches (Salesforce Object Reference: Lead, Contact, Account). */
function standardObjects(): ObjectDef[] {
  const lead = [
    ...audit(),
    f('FirstName', 'string', { length: 40 }),
    f('LastName', 'string', { length: 80, nillable: false, requiredOnCreate: true }),
    f('Name', 'string', { length: 121, createable: false, updateable: false }),
    f('Company', 'string', { length: 255, nillable: false, requiredOnCreate: true }),
    f('Email', 'email', { length: 80, fls: true }),
    f('Phone', 'phone', { length: 40, fls: true }),
    f('Status', 'picklist', {
      picklistValues: ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'].map((v, i) => ({
        value: v,
        label: v,
        default: i === 0,
      })),
      defaultValue: 'Open - Not Contacted',
    }),
    f('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', fls: true }),
    f('DoNotCall', 'boolean', { label: 'Do Not Call', fls: true }),
    f('IsConverted', 'boolean', { label: 'Converted', updateable: false }),
    f('ConvertedContactId', 'reference', { referenceTo: ['Contact'], createable: false, updateable: false }),
    f('ConvertedAccountId', 'reference', { referenceTo: ['Account'], createable: false, updateable: false }),
    f('IndividualId', 'reference', { referenceTo: ['Individual'], fls: true }),
  ];
  const contact = [
    ...audit(),
    f('FirstName', 'string', { length: 40 }),
    f('LastName', 'string', { length: 80, nillable: false, requiredOnCreate: true }),
    f('Name', 'string', { length: 121, createable: false, updateable: false }),
    f('AccountId', 'reference', { referenceTo: ['Account'] }),
    f('Email', 'email', { length: 80, fls: true }),
    f('Phone', 'phone', { length: 40, fls: true }),
    f('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', fls: true }),
    f('DoNotCall', 'boolean', { label: 'Do Not Call', fls: true }),
    f('IndividualId', 'reference', { referenceTo: ['Individual'], fls: true }),
  ];
  const account = [
    ...audit(),
    f('Name', 'string', { length: 255, nillable: false, requiredOnCreate: true, createable: true, updateable: true }),
    f('Phone', 'phone', { length: 40, fls: true }),
    f('IsPersonAccount', 'boolean', { createable: false, updateable: false }),
    // Person account fields take their field-level security from the Contact fields (Salesforce Help, "Person Accounts").
    f('PersonEmail', 'email', { length: 80, fls: true, flsField: 'Contact.Email' }),
    f('PersonHasOptedOutOfEmail', 'boolean', { fls: true, flsField: 'Contact.HasOptedOutOfEmail' }),
    f('PersonDoNotCall', 'boolean', { fls: true, flsField: 'Contact.DoNotCall' }),
    ...PERSON_ACCOUNT_CONSENT_FIELDS(),
  ];
  const user = [...audit().filter((x) => x.name !== 'OwnerId'), f('Username', 'string', { length: 80 }), f('IsActive', 'boolean')];
  return [
    obj('Lead', 'Lead', 'Leads', '00Q', false, lead),
    obj('Contact', 'Contact', 'Contacts', '003', false, contact),
    obj('Account', 'Account', 'Accounts', '001', false, account),
    obj('User', 'User', 'Users', '005', false, user),
    ...consentModelObjects(),
  ];
}

export function obj(name: string, label: string, labelPlural: string, keyPrefix: string, custom: boolean, fields: FieldDef[]): ObjectDef {
  const map = new Map(fields.map((x) => [x.name.toLowerCase(), x]));
  return { name, label, labelPlural, keyPrefix, custom, fields: map, uniqueFields: fields.filter((x) => x.unique).map((x) => x.name.toLowerCase()) };
}

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (n) => ['value', 'fieldPermissions', 'objectPermissions'].includes(n) });
const bool = (v: unknown) => String(v) === 'true';

/** Translates a CustomField metadata file into a describe-style field (Metadata API CustomField reference). */
function fromMetadata(x: Record<string, any>): FieldDef {
  const name: string = x.fullName;
  const t: string = x.type;
  const base: Partial<FieldDef> = { label: x.label, externalId: bool(x.externalId), unique: bool(x.unique), caseSensitive: bool(x.caseSensitive) };
  const text = (type: FieldType, length: number) =>
    f(name, type, {
      ...base,
      length,
      requiredOnCreate: bool(x.required),
      nillable: !bool(x.required),
      defaultValue: x.defaultValue ? String(x.defaultValue).replace(/^"|"$/g, '') : null,
    });
  switch (t) {
    case 'Text':
      return text('string', Number(x.length));
    case 'Email':
      return text('email', 80);
    case 'Phone':
      return text('phone', 40);
    case 'TextArea':
      return text('textarea', 255);
    case 'LongTextArea':
    case 'Html':
      return text('textarea', Number(x.length));
    case 'Checkbox':
      return f(name, 'boolean', { ...base, nillable: false, defaultValue: bool(x.defaultValue) });
    case 'DateTime':
      return f(name, 'datetime', base);
    case 'Date':
      return f(name, 'date', base);
    case 'Number':
    case 'Currency':
    case 'Percent': {
      const scale = Number(x.scale ?? 0);
      return f(name, scale === 0 ? 'double' : 'double', { ...base, precision: Number(x.precision ?? 18), scale });
    }
    case 'Picklist':
    case 'MultiselectPicklist': {
      const vs = x.valueSet ?? {};
      const values = (vs.valueSetDefinition?.value ?? []).map((v: any) => ({
        value: String(v.fullName),
        label: String(v.label ?? v.fullName),
        default: bool(v.default),
      }));
      const def = values.find((v: { default: boolean }) => v.default);
      return f(name, t === 'Picklist' ? 'picklist' : 'multipicklist', {
        ...base,
        picklistValues: values,
        restrictedPicklist: bool(vs.restricted),
        length: t === 'Picklist' ? 255 : 4099,
        requiredOnCreate: bool(x.required),
        nillable: !bool(x.required),
        defaultValue: def ? def.value : null,
      });
    }
    case 'MasterDetail':
      return f(name, 'reference', {
        ...base,
        referenceTo: [x.referenceTo],
        requiredOnCreate: true,
        nillable: false,
        updateable: bool(x.reparentableMasterDetail),
      });
    case 'Lookup':
      return f(name, 'reference', { ...base, referenceTo: [x.referenceTo] });
    default:
      return f(name, 'string', { ...base, length: 255 });
  }
}

/** An object permission of a permission set; viewAll is "View All Records" (what a change event subscriber needs). */
export interface ObjectGrant {
  create: boolean;
  edit: boolean;
  read: boolean;
  del: boolean;
  viewAll?: boolean;
}

export interface LoadedSchema {
  objects: Map<string, ObjectDef>; // keyed by lower-case name
  byPrefix: Map<string, ObjectDef>;
  /** object lower -> field lower -> access, from the permission sets. Only package custom fields are governed here. */
  permissionSets: Map<string, { fields: Map<string, FieldAccess>; objects: Map<string, ObjectGrant> }>;
}

/** The org's own permission sets (an admin grants the fields they map): name -> { 'Lead.DoNotCall': 'edit', Lead: 'delete' }.
 *  A field takes read or edit; an object read, edit (read, create, edit) or delete (all four). */
export type ExtraPermissionSets = Record<string, Record<string, 'read' | 'edit' | 'delete'>>;

export function loadSchema(
  forceAppDir: string | undefined,
  extra: Record<string, ExtraFieldSpec[]> = {},
  extraPermissionSets: ExtraPermissionSets = {},
): LoadedSchema {
  const objects = new Map<string, ObjectDef>();
  for (const o of standardObjects()) objects.set(o.name.toLowerCase(), o);
  const permissionSets: LoadedSchema['permissionSets'] = new Map();
  const base = forceAppDir ? join(forceAppDir, 'main', 'default') : undefined;
  if (base && existsSync(join(base, 'objects'))) {
    let customIndex = 0;
    for (const dir of readdirSync(join(base, 'objects')).sort()) {
      const objDir = join(base, 'objects', dir);
      let def = objects.get(dir.toLowerCase());
      const metaFile = join(objDir, `${dir}.object-meta.xml`);
      if (!def) {
        if (!existsSync(metaFile)) continue;
        const m = xml.parse(readFileSync(metaFile, 'utf8')).CustomObject;
        const nameField = m.nameField ?? {};
        const fields = [
          ...audit(),
          f('Name', 'string', {
            label: nameField.label ?? 'Name',
            length: 80,
            createable: nameField.type !== 'AutoNumber',
            updateable: nameField.type !== 'AutoNumber',
            autoNumber: nameField.type === 'AutoNumber' ? nameField.displayFormat : undefined,
            nillable: nameField.type === 'AutoNumber',
          }),
        ];
        if (m.sharingModel === 'ControlledByParent')
          fields.splice(
            fields.findIndex((x) => x.name === 'OwnerId'),
            1,
          );
        def = obj(dir, m.label, m.pluralLabel, 'a0' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[customIndex++], true, fields);
        objects.set(dir.toLowerCase(), def);
      }
      const fieldsDir = join(objDir, 'fields');
      if (!existsSync(fieldsDir)) continue;
      for (const file of readdirSync(fieldsDir).sort()) {
        const fd = fromMetadata(xml.parse(readFileSync(join(fieldsDir, file), 'utf8')).CustomField);
        fd.fls = !fd.requiredOnCreate;
        def.fields.set(fd.name.toLowerCase(), fd);
        if (fd.unique) def.uniqueFields.push(fd.name.toLowerCase());
      }
    }
  }
  for (const [objName, specs] of Object.entries(extra)) {
    const def = objects.get(objName.toLowerCase());
    if (!def) throw new Error(`extra fields: unknown object ${objName}`);
    for (const s of specs) {
      def.fields.set(
        s.name.toLowerCase(),
        f(s.name, s.type, {
          ...(s.label ? { label: s.label } : {}), // else the label derived from the API name, as Setup suggests it
          length: s.length ?? (s.type === 'multipicklist' ? 4099 : s.type === 'textarea' ? 32768 : 255),
          picklistValues: (s.values ?? []).map((v) => ({ value: v, label: v, default: false })),
          restrictedPicklist: s.restricted ?? false,
          externalId: s.externalId ?? false,
          fls: true, // a custom field: the integration user sees it only through a permission set that grants it
        }),
      );
    }
  }
  if (base && existsSync(join(base, 'permissionsets'))) {
    for (const file of readdirSync(join(base, 'permissionsets'))) {
      const p = xml.parse(readFileSync(join(base, 'permissionsets', file), 'utf8')).PermissionSet;
      const fields = new Map<string, FieldAccess>();
      for (const fp of p.fieldPermissions ?? []) fields.set(String(fp.field).toLowerCase(), { readable: bool(fp.readable), editable: bool(fp.editable) });
      const objs = new Map<string, ObjectGrant>();
      for (const op of p.objectPermissions ?? [])
        objs.set(String(op.object).toLowerCase(), {
          create: bool(op.allowCreate),
          edit: bool(op.allowEdit),
          read: bool(op.allowRead),
          del: bool(op.allowDelete),
          viewAll: bool(op.viewAllRecords) || bool(op.modifyAllRecords), // Modify All Records includes View All Records
        });
      permissionSets.set(file.replace('.permissionset-meta.xml', ''), { fields, objects: objs });
    }
  }
  for (const [name, grants] of Object.entries(extraPermissionSets)) {
    const fields = new Map<string, FieldAccess>();
    const objs = new Map<string, ObjectGrant>();
    for (const [key, level] of Object.entries(grants)) {
      if (!key.includes('.')) {
        if (!['read', 'edit', 'delete'].includes(level)) throw new Error(`permission set ${name}: ${key} must be read, edit or delete`);
        const edit = level !== 'read';
        objs.set(key.toLowerCase(), { read: true, create: edit, edit, del: level === 'delete' });
        continue;
      }
      if (level !== 'read' && level !== 'edit') throw new Error(`permission set ${name}: ${key} must be read or edit`);
      fields.set(key.toLowerCase(), { readable: true, editable: level === 'edit' });
    }
    permissionSets.set(name, { fields, objects: objs });
  }
  const byPrefix = new Map([...objects.values()].map((o) => [o.keyPrefix, o]));
  return { objects, byPrefix, permissionSets };
}
