// The subset of the UI API GraphQL API the admin tab uses (POST /services/data/vXX.X/graphql):
// `uiapi { query { <Object>(where, orderBy, first, after) { edges { node { Id <Field> { value
// displayValue } } } totalCount pageInfo { hasNextPage endCursor } } } }`, with variables and
// fragments, and `uiapi { aggregate { <Object>(where, groupBy) { edges { node { aggregate { <Field>
// { value } Id { count { value } } } } } totalCount } } }` (GraphQL API Developer Guide, "Aggregate
// Queries with GraphQL" and "Group Aggregate Results", API v58.0+). Shapes follow the GraphQL API Developer Guide: HTTP 200 with `errors` for invalid
// queries, every field but Id wrapped in { value, displayValue }, opaque cursors, first <= 2000.
// Parsing is graphql-js's; filtering and ordering reuse the emulator's SOQL engine.
import { Kind, parse, valueFromASTUntyped, GraphQLError, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Org, User } from '../org.ts';
import { isLongText, type ObjectDef, type FieldDef } from '../schema.ts';
import { runQuery, type Cond, type Query, type Value } from '../soql.ts';
import { sfDateTime } from '../org.ts';
import { fieldValue } from './represent.ts';

const MAX_FIRST = 2000; // GraphQL API Developer Guide: "first" accepts at most 2000 records
const DEFAULT_FIRST = 10;

interface GqlError {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}
class QueryError extends Error {
  readonly errors: GqlError[];
  constructor(message: string, node?: { loc?: { startToken: { line: number; column: number } } }, classification = 'ValidationError') {
    super(message);
    const loc = node?.loc?.startToken;
    this.errors = [{ message, locations: loc ? [{ line: loc.line, column: loc.column }] : [], extensions: { classification } }];
  }
}

export interface GraphqlRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export function executeGraphql(org: Org, user: User | null, body: GraphqlRequest): { data: unknown; errors: GqlError[] } {
  try {
    if (typeof body?.query !== 'string') throw new QueryError('Query string is required', undefined, 'InvalidSyntax');
    let doc;
    try {
      doc = parse(body.query);
    } catch (e) {
      const g = e as GraphQLError;
      return {
        data: null,
        errors: [{ message: `Invalid Syntax : ${g.message}`, locations: g.locations ? [...g.locations] : [], extensions: { classification: 'InvalidSyntax' } }],
      };
    }
    const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const op = typeof body.operationName === 'string' ? ops.find((o) => o.name?.value === body.operationName) : ops.length === 1 ? ops[0] : undefined;
    if (!op) throw new QueryError(ops.length ? 'Must provide operation name if query contains multiple operations' : 'No operation found');
    if (op.operation !== 'query') throw new QueryError(`The ${op.operation} operation is not supported by this emulator`, op);

    const given = body.variables && typeof body.variables === 'object' ? (body.variables as Record<string, unknown>) : {};
    const vars: Record<string, unknown> = {};
    for (const v of op.variableDefinitions ?? []) {
      const name = v.variable.name.value;
      vars[name] = name in given ? given[name] : v.defaultValue ? valueFromASTUntyped(v.defaultValue) : null;
    }
    const fields = (set: SelectionSetNode | undefined): FieldNode[] => {
      const out: FieldNode[] = [];
      for (const s of set?.selections ?? []) {
        if (s.kind === Kind.FIELD) out.push(s);
        else if (s.kind === Kind.INLINE_FRAGMENT) out.push(...fields(s.selectionSet));
        else {
          const f = fragments.get(s.name.value);
          if (!f) throw new QueryError(`Undefined fragment ${s.name.value}`, s);
          out.push(...fields(f.selectionSet));
        }
      }
      return out;
    };
    const data: Record<string, unknown> = {};
    for (const root of fields(op.selectionSet)) {
      if (root.name.value !== 'uiapi')
        throw new QueryError(`Validation error of type FieldUndefined: Field '${root.name.value}' in type 'Query' is undefined`, root);
      const uiapi: Record<string, unknown> = {};
      for (const q of fields(root.selectionSet)) {
        if (q.name.value !== 'query' && q.name.value !== 'aggregate')
          throw new QueryError(
            `Validation error of type FieldUndefined: Field '${q.name.value}' in type 'UIAPI' is undefined (this emulator answers record queries and aggregates only)`,
            q,
          );
        const out: Record<string, unknown> = {};
        const run = q.name.value === 'query' ? connection : aggregateConnection;
        for (const conn of fields(q.selectionSet)) out[conn.alias?.value ?? conn.name.value] = run(org, user, conn, vars, fields);
        uiapi[q.alias?.value ?? q.name.value] = out;
      }
      data[root.alias?.value ?? 'uiapi'] = uiapi;
    }
    return { data, errors: [] };
  } catch (e) {
    if (e instanceof QueryError) return { data: null, errors: e.errors };
    throw e;
  }
}

const encodeCursor = (offset: number) => Buffer.from(`v1:${offset}`).toString('base64');
function decodeCursor(c: unknown, node: FieldNode): number {
  if (c === null || c === undefined) return 0;
  const m = /^v1:(\d+)$/.exec(Buffer.from(String(c), 'base64').toString('utf8'));
  if (!m) throw new QueryError(`Invalid cursor: ${String(c)}`, node);
  return Number(m[1]);
}

/** A connection's arguments, with `first` (default 10, at most 2000) and `after` (an offset) checked. */
function pageArgs(node: FieldNode, vars: Record<string, unknown>): { args: Record<string, unknown>; first: number; offset: number } {
  const args: Record<string, unknown> = {};
  for (const a of node.arguments ?? []) args[a.name.value] = valueFromASTUntyped(a.value, vars);
  const first = args.first === null || args.first === undefined ? DEFAULT_FIRST : Number(args.first);
  if (!Number.isInteger(first) || first < 0 || first > MAX_FIRST) throw new QueryError(`Argument 'first' must be between 0 and ${MAX_FIRST}`, node);
  return { args, first, offset: decodeCursor(args.after, node) };
}

/** A field of the object as the user's schema has it (field-level security), by its exact API name. */
function fieldLookup(org: Org, user: User | null, def: ObjectDef): (fname: string, at: FieldNode) => FieldDef {
  return (fname, at) => {
    const fd = org.field(user, def, fname);
    if (!fd || fd.name !== fname) throw new QueryError(`Validation error of type FieldUndefined: Field '${fname}' in type '${def.name}' is undefined`, at);
    return fd;
  };
}

function connection(org: Org, user: User | null, node: FieldNode, vars: Record<string, unknown>, fields: (s?: SelectionSetNode) => FieldNode[]) {
  const name = node.name.value;
  const found = org.schema.objects.get(name.toLowerCase());
  const def = found && org.objectAccess(user, found).read ? found : undefined; // an unreadable object is not in the user's schema
  if (!def || def.name !== name) throw new QueryError(`Validation error of type FieldUndefined: Field '${name}' in type 'RecordQuery' is undefined`, node);
  const { args, first, offset } = pageArgs(node, vars);

  const fieldOf = fieldLookup(org, user, def);
  // Long text areas are not in the schema's filter and order inputs (as SOQL cannot filter or sort them).
  const filterable = (fd: FieldDef, arg: string): FieldDef => {
    if (isLongText(fd))
      throw new QueryError(
        `Validation error of type WrongType: argument '${arg}' contains a field not in '${def.name}_${arg === 'where' ? 'Filter' : 'OrderBy'}': '${fd.name}'`,
        node,
      );
    return fd;
  };
  const parsed: Query = {
    from: def.name,
    fromPos: 0,
    select: [{ kind: 'field', field: 'Id', pos: 0 }],
    where: args.where ? toCond(def, args.where, (f) => filterable(fieldOf(f, node), 'where')) : undefined,
    orderBy: toOrder(args.orderBy, (f) => filterable(fieldOf(f, node), 'orderBy')),
  };
  // The selected node fields, checked before any row is read.
  const sel = fields(node.selectionSet);
  const nodeFields: { key: string; fd: FieldDef | null; sub: FieldNode }[] = [];
  for (const s of sel) {
    if (s.name.value !== 'edges') continue;
    for (const e of fields(s.selectionSet)) {
      if (e.name.value !== 'node') continue;
      for (const f of fields(e.selectionSet)) {
        if (f.name.value === '__typename') nodeFields.push({ key: f.alias?.value ?? '__typename', fd: null, sub: f });
        else nodeFields.push({ key: f.alias?.value ?? f.name.value, fd: fieldOf(f.name.value, f), sub: f });
      }
    }
  }
  for (const nf of nodeFields)
    if (nf.fd && !parsed.select.some((x) => x.field === nf.fd!.name)) parsed.select.push({ kind: 'field', field: nf.fd.name, pos: 0 });

  const all = runQuery(org, user, '', parsed).records;
  const page = all.slice(offset, offset + first);
  const nodeOf = (rec: Record<string, unknown>) => {
    const nodeOut: Record<string, unknown> = {};
    for (const nf of nodeFields) {
      if (!nf.fd) nodeOut[nf.key] = def.name;
      else if (nf.fd.name === 'Id') nodeOut[nf.key] = rec.Id;
      else {
        const fv = fieldValue(nf.fd, rec[nf.fd.name]);
        const wanted = fields(nf.sub.selectionSet);
        nodeOut[nf.key] = wanted.length
          ? Object.fromEntries(wanted.map((w) => [w.alias?.value ?? w.name.value, w.name.value === 'displayValue' ? fv.displayValue : fv.value]))
          : fv;
      }
    }
    return nodeOut;
  };
  return connectionFields(sel, fields, { type: `${def.name}Connection`, typename: true, total: all.length, offset, page, nodeOf });
}

// "Group Aggregate Results": group by ApiName for Boolean, Date, Int, Email, String and ID fields
// (SOQL GROUP BY also takes picklists, phones and lookups); DateTime needs a grouping function,
// which this emulator does not offer, so `group: true` on it is refused as on the platform.
const GROUPABLE = new Set(['boolean', 'date', 'int', 'email', 'string', 'id', 'reference', 'picklist', 'phone']);
const NUMERIC = new Set(['int', 'double']);
const AGGREGATES = ['count', 'countDistinct', 'min', 'max', 'sum', 'avg'];

function aggregateConnection(org: Org, user: User | null, node: FieldNode, vars: Record<string, unknown>, fields: (s?: SelectionSetNode) => FieldNode[]) {
  const name = node.name.value;
  const def = org.schema.objects.get(name.toLowerCase());
  if (!def || def.name !== name)
    throw new QueryError(`Validation error of type FieldUndefined: Field '${name}' in type 'RecordQueryAggregate' is undefined`, node);
  const { args, first, offset } = pageArgs(node, vars);
  const fieldOf = fieldLookup(org, user, def);
  const grouped: FieldDef[] = [];
  for (const [k, v] of Object.entries((args.groupBy ?? {}) as Record<string, { group?: unknown }>)) {
    const fd = fieldOf(k, node);
    if (v?.group !== true) throw new QueryError(`Validation error: groupBy ${k} needs { group: true } (or a grouping function)`, node);
    if (!GROUPABLE.has(fd.type)) throw new QueryError(`Validation error: field '${k}' of type ${fd.type} can't be grouped by its ApiName`, node);
    grouped.push(fd);
  }
  // edges { node { aggregate { Field { value displayValue } | Field { count { value } ... } } } }
  type Wanted = { key: string; fd: FieldDef; sub: FieldNode };
  const wanted: Wanted[] = [];
  const sel = fields(node.selectionSet);
  for (const s of sel)
    if (s.name.value === 'edges')
      for (const e of fields(s.selectionSet))
        if (e.name.value === 'node')
          for (const a of fields(e.selectionSet)) {
            if (a.name.value !== 'aggregate')
              throw new QueryError(`Validation error of type FieldUndefined: Field '${a.name.value}' in type '${def.name}_AggregateNode' is undefined`, a);
            for (const f of fields(a.selectionSet)) wanted.push({ key: f.alias?.value ?? f.name.value, fd: fieldOf(f.name.value, f), sub: f });
          }
  for (const w of wanted) {
    for (const x of fields(w.sub.selectionSet)) {
      const fn = x.name.value;
      if (fn === 'value' || fn === 'displayValue') {
        // SOQL: a field selected without an aggregate function must be grouped.
        if (!grouped.includes(w.fd)) throw new QueryError(`Validation error: field '${w.fd.name}' must be grouped or aggregated`, x);
      } else if (!AGGREGATES.includes(fn))
        throw new QueryError(`Validation error of type FieldUndefined: Field '${fn}' in type '${w.fd.name}_Aggregate' is undefined`, x);
      else if ((fn === 'sum' || fn === 'avg') && !NUMERIC.has(w.fd.type))
        throw new QueryError(`Validation error: ${fn} does not apply to field '${w.fd.name}' of type ${w.fd.type}`, x);
    }
  }
  const parsed: Query = {
    from: def.name,
    fromPos: 0,
    select: [...new Set(['Id', ...grouped.map((g) => g.name), ...wanted.map((w) => w.fd.name)])].map((f) => ({ kind: 'field' as const, field: f, pos: 0 })),
    where: args.where ? toCond(def, args.where, (f) => fieldOf(f, node)) : undefined,
    orderBy: [{ field: 'Id', desc: false, nullsLast: false, pos: 0 }],
  };
  const rows = runQuery(org, user, '', parsed).records;
  const groups = new Map<string, Record<string, unknown>[]>();
  if (!grouped.length) groups.set('[]', rows);
  for (const r of grouped.length ? rows : []) {
    const k = JSON.stringify(grouped.map((g) => r[g.name] ?? null));
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const keys = [...groups.keys()].sort((a, b) => {
    const [x, y] = [JSON.parse(a) as unknown[], JSON.parse(b) as unknown[]];
    for (let i = 0; i < x.length; i++) {
      if (x[i] === y[i]) continue;
      if (x[i] === null) return -1;
      if (y[i] === null) return 1;
      return String(x[i]).localeCompare(String(y[i]));
    }
    return 0;
  });
  const page = keys.slice(offset, offset + first);
  const compute = (fn: string, fd: FieldDef, rs: Record<string, unknown>[]): unknown => {
    const vals = rs.map((r) => r[fd.name]).filter((v) => v !== null && v !== undefined);
    const sorted = [...vals].sort((a, b) => (NUMERIC.has(fd.type) ? Number(a) - Number(b) : String(a).localeCompare(String(b))));
    switch (fn) {
      case 'count':
        return vals.length;
      case 'countDistinct':
        return new Set(vals.map(String)).size;
      case 'min':
        return sorted.length ? fieldValue(fd, sorted[0]).value : null;
      case 'max':
        return sorted.length ? fieldValue(fd, sorted[sorted.length - 1]).value : null;
      case 'sum':
        return vals.length ? vals.reduce((t: number, v) => t + Number(v), 0) : null;
      default:
        return vals.length ? vals.reduce((t: number, v) => t + Number(v), 0) / vals.length : null;
    }
  };
  const nodeOf = (key: string) => {
    const rs = groups.get(key)!;
    const agg: Record<string, unknown> = {};
    for (const w of wanted) {
      const out: Record<string, unknown> = {};
      for (const x of fields(w.sub.selectionSet)) {
        const fn = x.name.value;
        const k = x.alias?.value ?? fn;
        if (fn === 'value' || fn === 'displayValue') {
          const fv = fieldValue(w.fd, rs[0]?.[w.fd.name] ?? null);
          out[k] = fn === 'value' ? fv.value : fv.displayValue;
        } else {
          const v = compute(fn, w.fd, rs);
          out[k] = Object.fromEntries(
            fields(x.selectionSet).map((y) => [y.alias?.value ?? y.name.value, y.name.value === 'displayValue' ? (v === null ? null : String(v)) : v]),
          );
        }
      }
      agg[w.key] = out;
    }
    return { aggregate: agg };
  };
  return connectionFields(sel, fields, { type: `${def.name}AggregateConnection`, typename: false, total: keys.length, offset, page, nodeOf });
}

/**
 * A page of a connection as the query selects it (GraphQL Cursor Connections Specification, which the
 * UI API follows): edges { cursor node }, totalCount, pageInfo and, on record connections, __typename.
 */
function connectionFields<T>(
  sel: FieldNode[],
  fields: (s?: SelectionSetNode) => FieldNode[],
  c: { type: string; typename: boolean; total: number; offset: number; page: T[]; nodeOf: (item: T) => unknown },
): Record<string, unknown> {
  const { offset, page } = c;
  const out: Record<string, unknown> = {};
  for (const s of sel) {
    const key = s.alias?.value ?? s.name.value;
    switch (s.name.value) {
      case 'edges':
        out[key] = page.map((item, i) => {
          const node = c.nodeOf(item);
          return Object.fromEntries(
            fields(s.selectionSet).map((f) => [f.alias?.value ?? f.name.value, f.name.value === 'cursor' ? encodeCursor(offset + i + 1) : node]),
          );
        });
        break;
      case 'totalCount':
        out[key] = c.total;
        break;
      case 'pageInfo': {
        const info: Record<string, unknown> = {
          hasNextPage: offset + page.length < c.total,
          hasPreviousPage: offset > 0,
          startCursor: page.length ? encodeCursor(offset + 1) : null,
          endCursor: page.length ? encodeCursor(offset + page.length) : null,
        };
        out[key] = Object.fromEntries(fields(s.selectionSet).map((f) => [f.alias?.value ?? f.name.value, info[f.name.value] ?? null]));
        break;
      }
      case '__typename':
        if (c.typename) {
          out[key] = c.type;
          break;
        }
      // falls through: an aggregate connection has no __typename here
      default:
        throw new QueryError(`Validation error of type FieldUndefined: Field '${s.name.value}' in type '${c.type}' is undefined`, s);
    }
  }
  return out;
}

const OPS: Record<string, string> = { eq: '=', ne: '!=', lt: '<', gt: '>', lte: '<=', gte: '>=' };

function literal(fd: FieldDef, v: unknown): { value: Value; vtype: 'str' | 'num' | 'bool' | 'dt' | 'date' | 'null' } {
  if (v === null || v === undefined) return { value: null, vtype: 'null' };
  switch (fd.type) {
    case 'boolean':
      return { value: Boolean(v), vtype: 'bool' };
    case 'double':
    case 'int':
      return { value: Number(v), vtype: 'num' };
    case 'datetime':
      return { value: sfDateTime(Date.parse(String(v))), vtype: 'dt' };
    case 'date':
      return { value: String(v), vtype: 'date' };
    default:
      return { value: String(v), vtype: 'str' };
  }
}

/** A UI API filter ({ Field: { eq: v }, and: [...], or: [...], not: {...} }) as a SOQL condition. */
function toCond(def: ObjectDef, where: unknown, fieldOf: (name: string) => FieldDef): Cond | undefined {
  if (!where || typeof where !== 'object') return undefined;
  const items: Cond[] = [];
  for (const [k, v] of Object.entries(where as Record<string, unknown>)) {
    if (k === 'and' || k === 'or') {
      const subs = (Array.isArray(v) ? v : [v]).map((x) => toCond(def, x, fieldOf)).filter((x): x is Cond => !!x);
      if (subs.length) items.push({ k, items: subs });
    } else if (k === 'not') {
      const sub = toCond(def, v, fieldOf);
      if (sub) items.push({ k: 'not', item: sub });
    } else {
      const fd = fieldOf(k);
      for (const [op, raw] of Object.entries((v ?? {}) as Record<string, unknown>)) {
        if (op in OPS) items.push({ k: 'cmp', field: fd.name, op: OPS[op], ...literal(fd, raw), pos: 0 });
        else if (op === 'in' || op === 'nin')
          items.push({ k: 'in', field: fd.name, not: op === 'nin', values: (Array.isArray(raw) ? raw : [raw]).map((x) => literal(fd, x).value), pos: 0 });
        else if (op === 'like') items.push({ k: 'like', field: fd.name, pattern: String(raw), pos: 0 });
        else throw new QueryError(`Validation error: unsupported filter operator '${op}' on ${def.name}.${fd.name}`);
      }
    }
  }
  if (!items.length) return undefined;
  return items.length === 1 ? items[0] : { k: 'and', items };
}

/** orderBy: { Field: { order: ASC|DESC, nulls: FIRST|LAST } }, keys in priority order; Id breaks ties for stable pages. */
function toOrder(orderBy: unknown, fieldOf: (name: string) => FieldDef): Query['orderBy'] {
  const out: Query['orderBy'] = [];
  for (const [k, v] of Object.entries((orderBy ?? {}) as Record<string, { order?: string; nulls?: string }>)) {
    const desc = String(v?.order ?? 'ASC').toUpperCase() === 'DESC';
    out.push({ field: fieldOf(k).name, desc, nullsLast: v?.nulls ? String(v.nulls).toUpperCase() === 'LAST' : desc, pos: 0 });
  }
  out.push({ field: 'Id', desc: false, nullsLast: false, pos: 0 });
  return out;
}
