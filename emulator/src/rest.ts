// The REST API under /services/data/vXX.X (reference/salesforce.md "REST resources"), as a pure
// dispatcher so that /composite can run subrequests through exactly the same code.
import { randomBytes } from 'node:crypto';
import { ApiError, RecordError } from './errors.ts';
import { normalizeId } from './ids.ts';
import { parseSoql, runQuery } from './soql.ts';
import type { Org, SfRecord, User } from './org.ts';
import { isLongText, type FieldDef, type ObjectDef } from './schema.ts';

export interface RestRequest {
  method: string;
  /** Path after /services/data/vXX.X, e.g. /query or /sobjects/Lead/describe */
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string | undefined>;
}
export interface RestResponse {
  status: number;
  body?: unknown;
}

export const COLLECTION_LIMIT = 200; // reference: at most 200 records a request
/** REST API Developer Guide, "Create/Update Records Using sObject Collections": a new chunk starts at each change of type; up to 10 chunks. */
export const COLLECTION_CHUNK_LIMIT = 10;
export const COMPOSITE_LIMIT = 25; // reference: up to 25 subrequests
export const COMPOSITE_HEAVY_LIMIT = 5; // reference: at most 5 collections or queries
// A subrequest's url travels in the request body, so the 16,384-byte request URI limit (server.ts) does
// not apply to it; its SOQL is still held to the 100,000-character statement limit (soql.ts). Salesforce
// Help, "Maximum number of rows returned by SOQL queries over the REST API" (article 000386264).
export const QUERY_PAGE = 2000; // reference: up to 2,000 records a page

const ROLLED_BACK = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

export class RestApi {
  private readonly org: Org;
  private readonly usage: () => { used: number; max: number };
  private readonly cursors = new Map<string, { records: SfRecord[]; offset: number; total: number }>();
  constructor(org: Org, usage: () => { used: number; max: number }) {
    this.org = org;
    this.usage = usage;
  }

  /** Which stats bucket a request belongs to. */
  static resource(path: string): string {
    const seg = path.split('/').filter(Boolean);
    if (seg[0] === 'composite') return seg[1] === 'sobjects' ? 'collections' : 'composite';
    if (seg[0] === 'sobjects' && seg[2] === 'describe') return 'describe';
    return seg[0] ?? 'root';
  }

  dispatch(req: RestRequest, user: User, version: string): RestResponse {
    const seg = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const m = req.method.toUpperCase();
    const base = `/services/data/v${version}`;
    if (seg.length === 0 && m === 'GET') {
      return { status: 200, body: { sobjects: `${base}/sobjects`, query: `${base}/query`, composite: `${base}/composite`, limits: `${base}/limits` } };
    }
    switch (seg[0]) {
      case 'limits': {
        if (m !== 'GET') break;
        const u = this.usage();
        return {
          status: 200,
          body: {
            DailyApiRequests: { Max: u.max, Remaining: Math.max(0, u.max - u.used) },
            DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
            DataStorageMB: { Max: 5, Remaining: 5 },
          },
        };
      }
      case 'query':
      case 'queryAll':
        if (m !== 'GET') break;
        return seg[1] ? this.queryMore(seg[1], base) : this.query(req, user, base);
      case 'sobjects':
        return this.sobjects(m, seg.slice(1), req, user, base);
      case 'composite':
        if (seg[1] === 'sobjects') return this.collections(m, seg.slice(2), req, user);
        if (seg.length === 1 && m === 'POST') return this.composite(req, user, version);
        break;
    }
    throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  // ---------- query ----------

  private query(req: RestRequest, user: User, base: string): RestResponse {
    const q = req.query.get('q');
    if (!q) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string is required: q');
    const parsed = parseSoql(q);
    const result = runQuery(this.org, user, q, parsed);
    for (const r of result.records) {
      const attrs = r.attributes as { type: string; url?: string };
      if (!result.aggregate) attrs.url = `${base}/sobjects/${attrs.type}/${r.Id ?? ''}`;
      else delete attrs.url;
    }
    const m = /batchSize=(\d+)/.exec(req.headers['sforce-query-options'] ?? '');
    const page = m ? Math.min(QUERY_PAGE, Math.max(200, Number(m[1]))) : QUERY_PAGE;
    return this.page(result.records, 0, result.aggregate ? result.records.length : result.totalSize, page, base);
  }

  private page(records: SfRecord[], offset: number, total: number, size: number, base: string): RestResponse {
    const slice = records.slice(offset, offset + size);
    const done = offset + size >= records.length;
    const body: Record<string, unknown> = { totalSize: total, done, records: slice };
    if (!done) {
      const id = '01g5g00000' + randomBytes(4).toString('hex').slice(0, 5).toUpperCase();
      const key = `${id}-${offset + size}`;
      this.cursors.set(key, { records, offset: offset + size, total });
      body.nextRecordsUrl = `${base}/query/${key}`;
    }
    return { status: 200, body };
  }

  private queryMore(key: string, base: string): RestResponse {
    const c = this.cursors.get(key);
    if (!c) throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    this.cursors.delete(key);
    return this.page(c.records, c.offset, c.total, QUERY_PAGE, base);
  }

  // ---------- sObject rows and describe ----------

  private sobjects(m: string, seg: string[], req: RestRequest, user: User, base: string): RestResponse {
    if (seg.length === 0 && m === 'GET') {
      return {
        status: 200,
        body: {
          encoding: 'UTF-8',
          maxBatchSize: 200,
          sobjects: [...this.org.schema.objects.values()].filter((d) => this.org.objectAccess(user, d).read).map((d) => this.describeBrief(d, user, base)),
        },
      };
    }
    const def = this.org.object(seg[0]);
    // An object the user cannot read does not exist for them (Salesforce Help, "Object Permissions").
    if (!this.org.objectAccess(user, def).read) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (seg.length === 1) {
      if (m === 'GET') return { status: 200, body: { objectDescribe: this.describeBrief(def, user, base), recentItems: [] } };
      if (m === 'POST') {
        try {
          const id = this.org.create(user, def.name, asRecord(req.body));
          return { status: 201, body: { id, success: true, errors: [] } };
        } catch (e) {
          throw toApi(e);
        }
      }
    }
    if (seg.length === 2 && seg[1] === 'describe' && m === 'GET') return { status: 200, body: this.describe(def, user, base) };
    if (seg.length === 2) {
      const id = seg[1];
      if (m === 'GET') {
        const rec = this.org.get(def.name, id);
        if (!rec) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        const fields = req.query
          .get('fields')
          ?.split(',')
          .map((f) => f.trim());
        const out: SfRecord = { attributes: { type: def.name, url: `${base}/sobjects/${def.name}/${rec.Id}` } };
        const visible = fields
          ? fields.map((f) => {
              const fd = this.org.field(user, def, f);
              if (!fd) throw new ApiError(400, 'INVALID_FIELD', `No such column '${f}' on sobject of type ${def.name}`);
              return fd;
            })
          : this.org.visibleFields(user, def);
        for (const fd of visible) out[fd.name] = rec[fd.name] ?? null;
        return { status: 200, body: out };
      }
      if (m === 'PATCH') {
        if (!this.org.get(def.name, id)) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        try {
          this.org.update(user, def.name, id, asRecord(req.body));
        } catch (e) {
          throw toApi(e);
        }
        return { status: 204 };
      }
      if (m === 'DELETE') {
        if (!this.org.get(def.name, id)) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        try {
          this.org.delete(def.name, id, user);
        } catch (e) {
          throw toApi(e);
        }
        return { status: 204 };
      }
    }
    if (seg.length === 3 && (m === 'PATCH' || m === 'GET')) {
      // Upsert or read by external id: PATCH /sobjects/{SObject}/{Field}/{value}
      const fd = this.org.field(user, def, seg[1]);
      if (!fd || !fd.externalId) throw new ApiError(400, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${seg[1]}`);
      const ids = this.org.indexed(def.name, fd.name, seg[2]) ?? [];
      if (ids.length > 1) return { status: 300, body: ids.map((id) => `${base}/sobjects/${def.name}/${id}`) };
      if (m === 'GET') {
        if (!ids.length) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
        return this.sobjects('GET', [def.name, ids[0]], req, user, base);
      }
      try {
        const r = this.org.upsert(user, def.name, fd.name, seg[2], asRecord(req.body));
        return r.created ? { status: 201, body: { id: r.id, success: true, errors: [], created: true } } : { status: 204 };
      } catch (e) {
        throw toApi(e);
      }
    }
    throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  private describeBrief(d: ObjectDef, user: User, base: string) {
    const a = this.org.objectAccess(user, d);
    return {
      name: d.name,
      label: d.label,
      labelPlural: d.labelPlural,
      keyPrefix: d.keyPrefix,
      custom: d.custom,
      createable: a.create,
      updateable: a.edit,
      deletable: a.del,
      queryable: a.read,
      searchable: true,
      urls: { sobject: `${base}/sobjects/${d.name}`, describe: `${base}/sobjects/${d.name}/describe`, rowTemplate: `${base}/sobjects/${d.name}/{ID}` },
    };
  }

  /** sObject Describe (REST API Developer Guide): createable/updateable reflect the user's permission sets. */
  describe(def: ObjectDef, user: User, base: string) {
    return {
      ...this.describeBrief(def, user, base),
      fields: this.org.visibleFields(user, def).map((fd) => describeField(fd, this.org.access(user, def, fd).editable)),
      childRelationships: [],
      recordTypeInfos: [],
    };
  }

  // ---------- sObject Collections ----------

  private collections(m: string, seg: string[], req: RestRequest, user: User): RestResponse {
    if (m === 'DELETE') {
      const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
      if (ids.length > COLLECTION_LIMIT) throw tooMany();
      const allOrNone = req.query.get('allOrNone') === 'true';
      return {
        status: 200,
        body: this.batch(ids.length, allOrNone, (i) => {
          this.org.delete(undefined, ids[i], user);
          return { id: normalizeId(ids[i]) ?? ids[i], success: true, errors: [] };
        }),
      };
    }
    const body = asRecord(req.body);
    const records = body.records;
    if (!Array.isArray(records)) throw new ApiError(400, 'JSON_PARSER_ERROR', 'Expected records: an array of sObjects');
    if (records.length > COLLECTION_LIMIT) throw tooMany();
    if (seg.length === 0 && chunksOf(records) > COLLECTION_CHUNK_LIMIT) throw tooManyChunks();
    const allOrNone = body.allOrNone === true;
    const typeOf = (r: SfRecord) => {
      const t = (r.attributes as { type?: string } | undefined)?.type;
      if (!t) throw new RecordError('INVALID_TYPE', 'Must specify a type in the attributes of each record', []);
      return this.org.object(t).name;
    };
    if (m === 'POST' && seg.length === 0) {
      return {
        status: 200,
        body: this.batch(records.length, allOrNone, (i) => {
          const r = asRecord(records[i]);
          if (r.Id || r.id) throw new RecordError('INVALID_FIELD', 'Record ID: cannot specify Id in an insert call', ['Id']);
          return { id: this.org.create(user, typeOf(r), r), success: true, errors: [] };
        }),
      };
    }
    if (m === 'PATCH' && seg.length === 0) {
      return {
        status: 200,
        body: this.batch(records.length, allOrNone, (i) => {
          const r = asRecord(records[i]);
          const id = (r.id ?? r.Id) as string | undefined;
          if (!id) throw new RecordError('MISSING_ARGUMENT', 'Id not specified in an update call', []);
          const type = typeOf(r);
          const rest = { ...r };
          delete rest.id;
          delete rest.Id;
          this.org.update(user, type, id, rest);
          return { id: normalizeId(id) ?? id, success: true, errors: [] };
        }),
      };
    }
    if (m === 'PATCH' && seg.length === 2) {
      // Upsert by external id (API v46+): one object type per request; results add `created`.
      const def = this.org.object(seg[0]);
      const fd = this.org.field(user, def, seg[1]);
      if (!fd || !fd.externalId)
        throw new ApiError(400, 'INVALID_FIELD', `Field name provided, ${seg[1]} is not an External ID or indexed field for ${def.name}`);
      return {
        status: 200,
        body: this.batch(records.length, allOrNone, (i) => {
          const r = asRecord(records[i]);
          if (typeOf(r) !== def.name) throw new RecordError('INVALID_TYPE', `Record type ${typeOf(r)} does not match ${def.name}`, []);
          const value = Object.entries(r).find(([k]) => k.toLowerCase() === fd.name.toLowerCase())?.[1];
          const res = this.org.upsert(user, def.name, fd.name, value, r);
          return { id: res.id, success: true, errors: [], created: res.created };
        }),
      };
    }
    throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  /** Runs n record operations with per-record results in order; allOrNone rolls all back on any failure. */
  private batch(n: number, allOrNone: boolean, op: (i: number) => Record<string, unknown>): Record<string, unknown>[] {
    const results: Record<string, unknown>[] = new Array(n);
    const run = (i: number) => {
      try {
        results[i] = this.org.transaction(() => op(i));
      } catch (e) {
        if (!(e instanceof RecordError) && !(e instanceof ApiError)) throw e;
        const err = e instanceof RecordError ? e.entry() : { statusCode: e.errorCode, message: e.message, fields: e.fields ?? [] };
        results[i] = { success: false, errors: [err] };
        this.org.rejectLog.push({ at: Date.now(), statusCode: err.statusCode, fields: err.fields, message: err.message });
      }
    };
    if (!allOrNone) {
      for (let i = 0; i < n; i++) run(i);
      return results;
    }
    try {
      this.org.transaction(() => {
        for (let i = 0; i < n; i++) run(i);
        if (results.some((r) => r.success === false)) throw new Error('rollback');
      });
    } catch {
      for (let i = 0; i < n; i++) if (results[i].success !== false) results[i] = { id: null, success: false, errors: [ROLLED_BACK] };
    }
    return results;
  }

  // ---------- composite ----------

  /** POST /composite: up to 25 subrequests (5 collections or queries), references, allOrNone; one API call in all. */
  private composite(req: RestRequest, user: User, version: string): RestResponse {
    const body = asRecord(req.body);
    const subs = body.compositeRequest;
    if (!Array.isArray(subs) || subs.length === 0) throw new ApiError(400, 'JSON_PARSER_ERROR', 'compositeRequest: an array of subrequests is required');
    if (subs.length > COMPOSITE_LIMIT) throw new ApiError(400, 'INVALID_BATCH_REQUEST', `The number of subrequests exceeds the limit of ${COMPOSITE_LIMIT}`);
    const heavy = subs.filter((s) => /\/(composite\/sobjects|query)/.test(String(asRecord(s).url ?? ''))).length;
    if (heavy > COMPOSITE_HEAVY_LIMIT)
      throw new ApiError(
        400,
        'INVALID_BATCH_REQUEST',
        `A composite request can contain up to ${COMPOSITE_HEAVY_LIMIT} sObject Collections or query subrequests`,
      );
    const allOrNone = body.allOrNone === true;
    const out: { body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string }[] = [];
    const refs = new Map<string, unknown>();
    const failed = new Set<string>();
    const run = () => {
      let halted = false;
      for (const raw of subs) {
        const s = asRecord(raw);
        const referenceId = String(s.referenceId ?? '');
        if (halted) {
          out.push({
            body: [{ errorCode: 'PROCESSING_HALTED', message: 'The transaction was rolled back since another operation in the same transaction failed.' }],
            httpHeaders: {},
            httpStatusCode: 400,
            referenceId,
          });
          continue;
        }
        let res: RestResponse;
        try {
          const url = resolveRefs(String(s.url ?? ''), refs, failed);
          const body = resolveRefs(s.body, refs, failed);
          const u = new URL(url, 'http://x');
          const vm = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(u.pathname);
          if (!vm) throw new ApiError(400, 'INVALID_URL', `Invalid URL: ${url}`);
          if (/^\/composite\/?$/.test(vm[2] ?? '')) throw new ApiError(400, 'INVALID_URL', 'A composite request cannot contain a composite subrequest');
          res = this.org.transaction(() =>
            this.dispatch({ method: String(s.method ?? 'GET'), path: vm[2] ?? '', query: u.searchParams, body, headers: {} }, user, vm[1] ?? version),
          );
        } catch (e) {
          const api = e instanceof ApiError ? e : e instanceof RecordError ? toApi(e) : null;
          if (!api) throw e;
          res = { status: api.status, body: api.body() };
        }
        out.push({ body: res.body ?? null, httpHeaders: {}, httpStatusCode: res.status, referenceId });
        if (res.status >= 400) {
          failed.add(referenceId);
          if (allOrNone) halted = true;
        } else refs.set(referenceId, res.body);
      }
      if (allOrNone && halted) throw new Error('rollback');
    };
    try {
      this.org.transaction(run);
    } catch (e) {
      if ((e as Error).message !== 'rollback') throw e;
      // every earlier success is rolled back too
      for (const r of out)
        if (r.httpStatusCode < 400)
          Object.assign(r, {
            httpStatusCode: 400,
            body: [{ errorCode: 'PROCESSING_HALTED', message: 'The transaction was rolled back since another operation in the same transaction failed.' }],
          });
    }
    return { status: 200, body: { compositeResponse: out } };
  }
}

function tooMany() {
  return new ApiError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`);
}

/** Runs of one sObject type, as Salesforce chunks a mixed collection: {a1, a2, c1, a3} is 3 chunks. */
function chunksOf(records: unknown[]): number {
  const typeOf = (r: unknown) => String((r as { attributes?: { type?: unknown } } | null)?.attributes?.type ?? '').toLowerCase();
  return records.reduce<number>((n, r, i) => n + (i === 0 || typeOf(records[i - 1]) !== typeOf(r) ? 1 : 0), 0);
}

function tooManyChunks() {
  // The limit is documented; the wording is Salesforce's own for a save of more than 10 chunks.
  return new ApiError(
    400,
    'EXCEEDED_ID_LIMIT',
    `Cannot have more than ${COLLECTION_CHUNK_LIMIT} chunks in a single operation. Please rearrange the data to reduce chunking.`,
  );
}

function asRecord(v: unknown): SfRecord {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'JSON_PARSER_ERROR', 'Expected a JSON object');
  return v as SfRecord;
}

function toApi(e: unknown): ApiError {
  if (e instanceof RecordError) return new ApiError(400, e.statusCode, e.message, e.fields);
  if (e instanceof ApiError) return e;
  throw e;
}

/** Replaces @{ref.path} with values from earlier subrequests' bodies (Composite resource, "reference IDs"). */
function resolveRefs(v: unknown, refs: Map<string, unknown>, failed: Set<string>): any {
  if (typeof v === 'string') {
    return v.replace(/@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g, (_, ref: string, path: string) => {
      if (failed.has(ref) || !refs.has(ref))
        throw new ApiError(400, 'PROCESSING_HALTED', `Invalid reference specified. No value for ${ref}${path} found in ${ref}.`);
      let cur: any = refs.get(ref);
      for (const part of path.match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? []) cur = cur?.[part.startsWith('.') ? part.slice(1) : Number(part.slice(1, -1))];
      if (cur === undefined) throw new ApiError(400, 'PROCESSING_HALTED', `Invalid reference specified. No value for ${ref}${path} found in ${ref}.`);
      return String(cur);
    });
  }
  if (Array.isArray(v)) return v.map((x) => resolveRefs(x, refs, failed));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x, refs, failed)]));
  return v;
}

export function describeField(fd: FieldDef, editable: boolean) {
  return {
    name: fd.name,
    label: fd.label,
    type: fd.type,
    length: fd.length,
    custom: fd.custom,
    nillable: fd.nillable,
    createable: fd.createable && editable,
    updateable: fd.updateable && editable,
    defaultedOnCreate: fd.defaultValue !== null || fd.name === 'OwnerId' || !!fd.autoNumber,
    externalId: fd.externalId,
    unique: fd.unique,
    caseSensitive: fd.caseSensitive,
    idLookup: fd.externalId || fd.name === 'Id' || fd.name === 'Email',
    autoNumber: !!fd.autoNumber,
    calculated: false,
    filterable: !isLongText(fd),
    sortable: !isLongText(fd),
    picklistValues: fd.picklistValues.map((p) => ({ active: true, defaultValue: p.default, label: p.label, validFor: null, value: p.value })),
    restrictedPicklist: fd.restrictedPicklist,
    referenceTo: fd.referenceTo,
    relationshipName: fd.type === 'reference' ? fd.name.replace(/Id$/, '').replace(/__c$/, '__r') : null,
    defaultValue: fd.type === 'boolean' ? fd.defaultValue : null,
    precision: fd.precision ?? 0,
    scale: fd.scale ?? 0,
    soapType: `xsd:${fd.type === 'boolean' ? 'boolean' : fd.type === 'double' ? 'double' : fd.type === 'datetime' ? 'dateTime' : fd.type === 'date' ? 'date' : fd.type === 'id' || fd.type === 'reference' ? 'ID' : 'string'}`,
  };
}
