// The in-memory org: records, indexes, field rules, transactions, faults on writes and a write log.
// Every rule cites reference/salesforce.md unless noted.
import { makeId, normalizeId } from './ids.ts';
import { RecordError, ApiError } from './errors.ts';
import type { FieldDef, ObjectDef, LoadedSchema, FieldAccess, ObjectAccess, ObjectGrant } from './schema.ts';

export type SfRecord = Record<string, unknown>;

/** The integration user's profile grants no field access; the standard profiles of people (admins, sales reps) grant every field. */
export const INTEGRATION_PROFILE = 'Minimum Access - API Only Integrations';
const ALL_FIELDS_PROFILES = new Set(['System Administrator', 'Standard User']);

export interface User {
  id: string;
  username: string;
  active: boolean;
  permissionSets: string[];
  profile: string;
}

export interface ValidationRule {
  sobject: string;
  field: string;
  value: unknown;
  message: string;
}

export interface WriteLogEntry {
  at: number;
  sobject: string;
  id: string;
  op: 'create' | 'update' | 'delete';
  fields: SfRecord;
}

export interface WriteFaults {
  lockRowShare: number;
  validationRules: ValidationRule[];
}

interface UndoEntry {
  table: Table;
  id: string;
  before: SfRecord | undefined;
}

class Table {
  readonly def: ObjectDef;
  readonly rows = new Map<string, SfRecord>();
  /** unique field (lower) -> normalized value -> id */
  readonly unique = new Map<string, Map<string, string>>();
  /** non-unique lookup indexes (Email-like fields) -> lower value -> ids */
  readonly lookup = new Map<string, Map<string, Set<string>>>();
  counter = 0;
  constructor(def: ObjectDef) {
    this.def = def;
    for (const u of def.uniqueFields) this.unique.set(u, new Map());
    for (const name of ['email', 'personemail', 'didomi_user_id__c'])
      if (def.fields.has(name) && !def.uniqueFields.includes(name)) this.lookup.set(name, new Map());
    // a non-unique External ID is indexed too (REST upsert by it may match several records)
    for (const [name, fd] of def.fields) if (fd.externalId && !fd.unique) this.lookup.set(name, new Map());
  }
  key(field: FieldDef, v: unknown): string {
    return field.caseSensitive ? String(v) : String(v).toLowerCase();
  }
  index(id: string, rec: SfRecord | undefined, add: boolean) {
    if (!rec) return;
    for (const [u, m] of this.unique) {
      const fd = this.def.fields.get(u)!;
      const v = rec[fd.name];
      if (v === null || v === undefined || v === '') continue;
      if (add) m.set(this.key(fd, v), id);
      else if (m.get(this.key(fd, v)) === id) m.delete(this.key(fd, v));
    }
    for (const [l, m] of this.lookup) {
      const fd = this.def.fields.get(l)!;
      const v = rec[fd.name];
      if (v === null || v === undefined || v === '') continue;
      const k = String(v).toLowerCase();
      if (add) {
        let s = m.get(k);
        if (!s) m.set(k, (s = new Set()));
        s.add(id);
      } else m.get(k)?.delete(id);
    }
  }
  put(id: string, rec: SfRecord | undefined) {
    this.index(id, this.rows.get(id), false);
    if (rec) {
      this.rows.set(id, rec);
      this.index(id, rec, true);
    } else this.rows.delete(id);
  }
}

export const sfDateTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

export class Org {
  readonly schema: LoadedSchema;
  readonly tables = new Map<string, Table>();
  readonly users = new Map<string, User>();
  readonly writeLog: WriteLogEntry[] = [];
  /** Records a collections request refused (per-record errors), for tests to see what was sent and refused. */
  readonly rejectLog: { at: number; statusCode: string; fields: string[]; message: string }[] = [];
  faults: WriteFaults = { lockRowShare: 0, validationRules: [] };
  private undo: UndoEntry[] | null = null;
  private pendingLog: WriteLogEntry[] = [];
  private pendingChanges: RecordChange[] = [];
  private lastStamp = 0;
  /** The org's clock (SystemModstamp, change events): the emulator's, so advanceClock moves both. */
  now: () => number = Date.now;
  /** Called once per committed record write, in commit order (the Pub/Sub change event bus listens). */
  readonly changeListeners: ((changes: RecordChange[]) => void)[] = [];

  constructor(schema: LoadedSchema) {
    this.schema = schema;
    for (const def of schema.objects.values()) this.tables.set(def.name.toLowerCase(), new Table(def));
  }

  // ---------- schema and access ----------

  object(name: string): ObjectDef {
    const def = this.schema.objects.get(String(name).toLowerCase());
    if (!def) throw new ApiError(404, 'NOT_FOUND', `The requested resource does not exist`);
    return def;
  }

  table(name: string): Table {
    return this.tables.get(this.object(name).name.toLowerCase())!;
  }

  addUser(username: string, permissionSets: string[], active = true, profile = INTEGRATION_PROFILE): User {
    const existing = this.users.get(username.toLowerCase());
    if (existing) {
      existing.permissionSets = permissionSets;
      existing.active = active;
      existing.profile = profile;
      return existing;
    }
    const t = this.table('User');
    const id = makeId('005', ++t.counter);
    const user = { id, username, active, permissionSets, profile };
    this.users.set(username.toLowerCase(), user);
    const now = sfDateTime(Date.now());
    t.put(id, { Id: id, Username: username, IsActive: active, CreatedDate: now, LastModifiedDate: now, SystemModstamp: now, IsDeleted: false });
    return user;
  }

  /** Field-level security: package fields and FLS-governed standard fields follow the user's permission sets (the
   *  integration profile grants none, a person's standard profile all); required, system and customer fields are open. */
  access(user: User | null, def: ObjectDef, field: FieldDef): FieldAccess {
    if (!user || !field.fls || ALL_FIELDS_PROFILES.has(user.profile)) return { readable: true, editable: true };
    const key = (field.flsField ?? `${def.name}.${field.name}`).toLowerCase();
    let readable = false;
    let editable = false;
    for (const ps of user.permissionSets) {
      const a = this.schema.permissionSets.get(ps)?.fields.get(key);
      if (a?.readable) readable = true;
      if (a?.editable) editable = true;
    }
    return { readable, editable };
  }

  /** Object permissions (create, read, edit, delete) from the user's permission sets; the integration profile grants none.
   *  Everyone may read User records. Salesforce Help, "Object Permissions". */
  objectAccess(user: User | null, def: ObjectDef): ObjectAccess {
    if (!user || ALL_FIELDS_PROFILES.has(user.profile) || def.name === 'User') return { read: true, create: true, edit: true, del: true };
    const out = { read: false, create: false, edit: false, del: false };
    for (const ps of user.permissionSets) {
      const a = this.schema.permissionSets.get(ps)?.objects.get(def.name.toLowerCase());
      if (!a) continue;
      out.read ||= a.read;
      out.create ||= a.create;
      out.edit ||= a.edit;
      out.del ||= a.del;
    }
    return out;
  }

  /** What an admin does in Setup when editing a permission set's object settings, e.g. { viewAll: false } on Lead. */
  editObjectGrant(permissionSet: string, sobject: string, change: Partial<ObjectGrant>): void {
    const ps = this.schema.permissionSets.get(permissionSet);
    const grant = ps?.objects.get(sobject.toLowerCase());
    if (!grant) throw new Error(`permission set ${permissionSet} has no object settings for ${sobject}`);
    Object.assign(grant, change);
  }

  /** Change Data Capture ignores sharing, so receiving an object's change events needs View All Records on it, or View
   *  All Data (System Administrator). CDC Developer Guide, "Required Permissions for Change Event Subscribers":
   *  https://developer.salesforce.com/docs/platform/change-data-capture/guide/cdc-security-perms.html */
  canReceiveChangeEvents(user: User, sobject: string): boolean {
    if (user.profile === 'System Administrator') return true;
    return user.permissionSets.some((ps) => this.schema.permissionSets.get(ps)?.objects.get(sobject.toLowerCase())?.viewAll === true);
  }

  private requireObject(user: User | null, def: ObjectDef, what: 'create' | 'edit' | 'del') {
    if (user && !this.objectAccess(user, def)[what]) throw new RecordError('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id', []);
  }

  /** Visible field or null (fields hidden by FLS behave as nonexistent). */
  field(user: User | null, def: ObjectDef, name: string): FieldDef | null {
    const fd = def.fields.get(String(name).toLowerCase());
    if (!fd) return null;
    return this.access(user, def, fd).readable ? fd : null;
  }

  visibleFields(user: User | null, def: ObjectDef): FieldDef[] {
    return [...def.fields.values()].filter((fd) => this.access(user, def, fd).readable);
  }

  // ---------- transactions ----------

  /** Runs fn atomically: on throw, every write made inside is undone (allOrNone, composite rollback). */
  transaction<T>(fn: () => T): T {
    const outer = this.undo;
    const outerLog = this.pendingLog;
    const outerChanges = this.pendingChanges;
    this.undo = [];
    this.pendingLog = [];
    this.pendingChanges = [];
    try {
      const result = fn();
      const log = this.pendingLog;
      const changes = this.pendingChanges;
      if (outer) {
        outer.push(...this.undo);
        outerLog.push(...log);
        outerChanges.push(...changes);
      } else {
        this.writeLog.push(...log);
        this.emitChanges(changes);
      }
      this.undo = outer;
      this.pendingLog = outerLog;
      this.pendingChanges = outerChanges;
      return result;
    } catch (err) {
      const undo = this.undo!;
      for (let i = undo.length - 1; i >= 0; i--) undo[i].table.put(undo[i].id, undo[i].before);
      this.undo = outer;
      this.pendingLog = outerLog;
      this.pendingChanges = outerChanges;
      throw err;
    }
  }

  private put(t: Table, id: string, rec: SfRecord | undefined, op: WriteLogEntry['op'], fields: SfRecord, by: User | null = null) {
    const before = t.rows.get(id);
    if (this.undo) this.undo.push({ table: t, id, before });
    t.put(id, rec);
    const entry = { at: Date.now(), sobject: t.def.name, id, op, fields };
    const change = recordChange(t.def.name, id, op, before, rec, by?.id ?? (rec?.LastModifiedById as string | null) ?? null, this.now());
    if (this.undo) {
      this.pendingLog.push(entry);
      this.pendingChanges.push(change);
    } else {
      this.writeLog.push(entry);
      this.emitChanges([change]);
    }
  }

  private emitChanges(changes: RecordChange[]) {
    if (changes.length) for (const f of this.changeListeners) f(changes);
  }

  private stamp(): string {
    // Strictly increasing timestamps keep SystemModstamp ordering meaningful within one millisecond.
    this.lastStamp = Math.max(this.now(), this.lastStamp + 1);
    return sfDateTime(this.lastStamp);
  }

  // ---------- reads ----------

  get(sobject: string, id: string): SfRecord | undefined {
    const nid = normalizeId(id);
    return nid ? this.table(sobject).rows.get(nid) : undefined;
  }

  findByUnique(sobject: string, field: string, value: unknown): string | undefined {
    const t = this.table(sobject);
    const fd = t.def.fields.get(field.toLowerCase());
    const m = t.unique.get(field.toLowerCase());
    if (!fd || !m) return undefined;
    return m.get(t.key(fd, value));
  }

  /** Ids of records whose (external id or indexed) field equals value, case-insensitively; undefined when not indexed. */
  indexed(sobject: string, field: string, value: unknown): string[] | undefined {
    const t = this.table(sobject);
    const f = field.toLowerCase();
    if (t.unique.has(f)) {
      const id = this.findByUnique(sobject, field, value);
      return id ? [id] : [];
    }
    const m = t.lookup.get(f);
    if (!m) return undefined;
    return [...(m.get(String(value).toLowerCase()) ?? [])];
  }

  /** Record id to object, from the key prefix. */
  objectOfId(id: string): ObjectDef | undefined {
    return this.schema.byPrefix.get(id.slice(0, 3));
  }

  // ---------- writes ----------

  /** Coerces and checks one input value against its field (types, lengths, restricted picklists). */
  private coerce(def: ObjectDef, fd: FieldDef, v: unknown): unknown {
    if (v === null || v === undefined || v === '') {
      if (fd.type === 'boolean') throw new RecordError('INVALID_TYPE_ON_FIELD_IN_RECORD', `${fd.label}: value not of required type: ${v}`, [fd.name]);
      return null;
    }
    const bad = () =>
      new RecordError('INVALID_TYPE_ON_FIELD_IN_RECORD', `${fd.label}: value not of required type: ${typeof v === 'object' ? JSON.stringify(v) : v}`, [
        fd.name,
      ]);
    switch (fd.type) {
      case 'boolean':
        if (typeof v === 'boolean') return v;
        if (v === 'true' || v === 'false') return v === 'true';
        throw bad();
      case 'double':
      case 'int':
        if (typeof v === 'number' && Number.isFinite(v)) return v;
        if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
        throw bad();
      case 'datetime': {
        const t = typeof v === 'string' ? Date.parse(v) : NaN;
        if (Number.isNaN(t)) throw bad();
        return sfDateTime(t);
      }
      case 'date':
        if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
        throw bad();
      case 'reference': {
        const id = typeof v === 'string' ? normalizeId(v) : null;
        if (!id) throw new RecordError('MALFORMED_ID', `${fd.label}: id value of incorrect type: ${v}`, [fd.name]);
        if (fd.referenceTo.length && !fd.referenceTo.includes(this.objectOfId(id)?.name ?? '')) {
          throw new RecordError('FIELD_INTEGRITY_EXCEPTION', `${fd.label}: id value of incorrect type: ${v}`, [fd.name]);
        }
        return id;
      }
      default: {
        if (typeof v === 'object') throw bad();
        const s = String(v);
        if (fd.type === 'picklist' || fd.type === 'multipicklist') {
          if (fd.restrictedPicklist) {
            const allowed = new Set(fd.picklistValues.map((p) => p.value));
            const parts = fd.type === 'multipicklist' ? s.split(';') : [s];
            const wrong = parts.find((p) => !allowed.has(p));
            if (wrong !== undefined)
              throw new RecordError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${fd.label}: bad value for restricted picklist field: ${wrong}`, [fd.name]);
          }
        }
        if (fd.length && s.length > fd.length) {
          throw new RecordError(
            'STRING_TOO_LONG',
            `${fd.label}: data value too large: ${s.length > 40 ? s.slice(0, 40) + '...' : s} (max length=${fd.length})`,
            [fd.name],
          );
        }
        // Salesforce refuses an address without a dotted domain ("a@b") or with spaces.
        if (fd.type === 'email' && !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(s))
          throw new RecordError('INVALID_EMAIL_ADDRESS', `${fd.label}: invalid email address: ${s}`, [fd.name]);
        return s;
      }
    }
  }

  /** Applies input fields to a copy of the record, enforcing FLS, createable/updateable and types. */
  private apply(user: User | null, def: ObjectDef, base: SfRecord, input: SfRecord, creating: boolean, trusted: boolean): SfRecord {
    const rec = { ...base };
    const denied: string[] = [];
    for (const [k, v] of Object.entries(input)) {
      if (k === 'attributes' || k === 'Id' || k === 'id') continue;
      const fd = def.fields.get(k.toLowerCase());
      if (!fd || (!trusted && !this.access(user, def, fd).readable)) {
        throw new RecordError('INVALID_FIELD', `No such column '${k}' on sobject of type ${def.name}`, [k]);
      }
      if (!trusted && (!this.access(user, def, fd).editable || !(creating ? fd.createable : fd.updateable))) {
        denied.push(fd.name);
        continue;
      }
      rec[fd.name] = this.coerce(def, fd, v);
    }
    if (denied.length) {
      throw new RecordError(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${denied.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        denied,
      );
    }
    return rec;
  }

  private check(t: Table, id: string, rec: SfRecord, creating: boolean) {
    const def = t.def;
    if (creating) {
      const missing = [...def.fields.values()].filter(
        (fd) => fd.requiredOnCreate && (rec[fd.name] === null || rec[fd.name] === undefined || rec[fd.name] === ''),
      );
      if (missing.length)
        throw new RecordError(
          'REQUIRED_FIELD_MISSING',
          `Required fields are missing: [${missing.map((m) => m.name).join(', ')}]`,
          missing.map((m) => m.name),
        );
    }
    for (const u of def.uniqueFields) {
      const fd = def.fields.get(u)!;
      const v = rec[fd.name];
      if (v === null || v === undefined || v === '') continue;
      const other = t.unique.get(u)!.get(t.key(fd, v));
      if (other && other !== id)
        throw new RecordError('DUPLICATE_VALUE', `duplicate value found: ${fd.name} duplicates value on record with id: ${other}`, [fd.name]);
    }
    for (const rule of this.faults.validationRules) {
      if (rule.sobject.toLowerCase() !== def.name.toLowerCase()) continue;
      const fv = rec[def.fields.get(rule.field.toLowerCase())?.name ?? rule.field];
      if (fv === rule.value || (typeof fv === 'string' && typeof rule.value === 'string' && fv.toLowerCase() === rule.value.toLowerCase())) {
        throw new RecordError('FIELD_CUSTOM_VALIDATION_EXCEPTION', rule.message, []);
      }
    }
    if (this.faults.lockRowShare > 0 && Math.random() < this.faults.lockRowShare) {
      throw new RecordError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records: ' + id, []);
    }
  }

  private derive(def: ObjectDef, rec: SfRecord) {
    if (def.name === 'Lead' || def.name === 'Contact') {
      rec.Name = [rec.FirstName, rec.LastName].filter(Boolean).join(' ');
    }
  }

  create(user: User | null, sobject: string, input: SfRecord, opts: { trusted?: boolean } = {}): string {
    const t = this.table(sobject);
    const def = t.def;
    if (!opts.trusted) this.requireObject(user, def, 'create');
    let id = makeId(def.keyPrefix, ++t.counter);
    while (t.rows.has(id)) id = makeId(def.keyPrefix, ++t.counter);
    const now = this.stamp();
    const by = user?.id ?? null;
    const defaults: SfRecord = {
      Id: id,
      IsDeleted: false,
      CreatedDate: now,
      LastModifiedDate: now,
      SystemModstamp: now,
      CreatedById: by,
      LastModifiedById: by,
    };
    for (const fd of def.fields.values()) {
      if (fd.defaultValue !== null && fd.defaultValue !== undefined) defaults[fd.name] = fd.defaultValue;
    }
    if (def.fields.has('ownerid')) defaults.OwnerId = user?.id ?? [...this.users.values()][0]?.id ?? null;
    const nameFd = def.fields.get('name');
    if (nameFd?.autoNumber) {
      const m = /\{(0+)\}/.exec(nameFd.autoNumber);
      defaults.Name = m ? nameFd.autoNumber.replace(m[0], String(t.counter).padStart(m[1].length, '0')) : `${t.counter}`;
    }
    const rec = this.apply(user, def, defaults, input, true, !!opts.trusted);
    this.derive(def, rec);
    this.check(t, id, rec, true);
    this.put(t, id, rec, 'create', strip(input));
    return id;
  }

  update(user: User | null, sobject: string, rawId: string, input: SfRecord, opts: { trusted?: boolean } = {}): void {
    const t = this.table(sobject);
    const id = normalizeId(rawId);
    if (!id || this.objectOfId(id)?.name !== t.def.name)
      throw new RecordError('MALFORMED_ID', `${t.def.name} ID: id value of incorrect type: ${rawId}`, ['Id']);
    const before = t.rows.get(id);
    if (!before) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', []);
    if (!opts.trusted) this.requireObject(user, t.def, 'edit');
    if (t.def.name === 'Lead' && before.IsConverted === true && !opts.trusted) {
      throw new RecordError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', []);
    }
    const rec = this.apply(user, t.def, before, input, false, !!opts.trusted);
    rec.LastModifiedDate = rec.SystemModstamp = this.stamp();
    rec.LastModifiedById = user?.id ?? null;
    this.derive(t.def, rec);
    this.check(t, id, rec, false);
    this.put(t, id, rec, 'update', strip(input));
  }

  delete(sobject: string | undefined, rawId: string, user: User | null = null): void {
    const id = normalizeId(rawId);
    const def = id ? this.objectOfId(id) : undefined;
    if (!id || !def || (sobject && def.name.toLowerCase() !== sobject.toLowerCase())) throw new RecordError('MALFORMED_ID', `malformed id ${rawId}`, []);
    const t = this.table(def.name);
    if (!t.rows.has(id)) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', []);
    this.requireObject(user, def, 'del');
    if (this.faults.lockRowShare > 0 && Math.random() < this.faults.lockRowShare) {
      throw new RecordError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records: ' + id, []);
    }
    this.put(t, id, undefined, 'delete', {}, user);
  }

  /** Upsert by external id (reference: 300 on several matches, `created` in the result). */
  upsert(user: User | null, sobject: string, extField: string, value: unknown, input: SfRecord): { id: string; created: boolean } {
    const t = this.table(sobject);
    const fd = this.field(user, t.def, extField);
    if (!fd || !(fd.externalId || fd.name === 'Id')) {
      throw new RecordError('INVALID_FIELD', `Field ${extField} is not an External ID or indexed field for ${t.def.name}`, [extField]);
    }
    if (value === null || value === undefined || value === '') throw new RecordError('MISSING_ARGUMENT', `${fd.name} not specified`, [fd.name]);
    const ids =
      this.indexed(sobject, fd.name, value) ??
      [...t.rows.values()].filter((r) => String(r[fd.name] ?? '').toLowerCase() === String(value).toLowerCase()).map((r) => r.Id as string);
    if (ids.length > 1)
      throw new RecordError('MULTIPLE_CHOICES', `${fd.name}: more than one record found for external id field: [${ids.join(', ')}]`, [fd.name]);
    const body = { ...input };
    delete body[fd.name];
    if (ids.length === 1) {
      this.update(user, sobject, ids[0], body);
      return { id: ids[0], created: false };
    }
    return { id: this.create(user, sobject, { ...body, [fd.name]: value }), created: true };
  }

  reset() {
    for (const t of this.tables.values()) {
      if (t.def.name === 'User') continue;
      t.rows.clear();
      for (const m of t.unique.values()) m.clear();
      for (const m of t.lookup.values()) m.clear();
    }
    this.writeLog.length = 0;
    this.rejectLog.length = 0;
    this.faults = { lockRowShare: 0, validationRules: [] };
  }

  /** Serializable dump for --data. */
  dump(): Record<string, SfRecord[]> {
    const out: Record<string, SfRecord[]> = {};
    for (const t of this.tables.values()) if (t.rows.size && t.def.name !== 'User') out[t.def.name] = [...t.rows.values()];
    return out;
  }

  load(data: Record<string, SfRecord[]>) {
    for (const [name, rows] of Object.entries(data)) {
      const t = this.table(name);
      for (const r of rows) t.put(r.Id as string, r);
      t.counter = Math.max(t.counter, t.rows.size);
    }
  }
}

/** One committed record write, as Change Data Capture sees it: the fields whose value changed, and who committed it. */
export interface RecordChange {
  sobject: string;
  id: string;
  op: WriteLogEntry['op'];
  /** Changed fields with their new values (all set fields on create; none on delete). */
  changed: SfRecord;
  commitUser: string | null;
  at: number;
}

function recordChange(
  sobject: string,
  id: string,
  op: WriteLogEntry['op'],
  before: SfRecord | undefined,
  after: SfRecord | undefined,
  by: string | null,
  at: number,
): RecordChange {
  const changed: SfRecord = {};
  if (after) for (const [k, v] of Object.entries(after)) if (before?.[k] !== v && !(before === undefined && v === null)) changed[k] = v;
  return { sobject, id, op, changed, commitUser: by, at };
}

function strip(input: SfRecord): SfRecord {
  const out: SfRecord = {};
  for (const [k, v] of Object.entries(input)) if (k !== 'attributes') out[k] = v;
  return out;
}
