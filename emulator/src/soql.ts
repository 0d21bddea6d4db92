// A SOQL parser and evaluator for the subset a client of this product needs (SOQL and SOSL
// Reference: SELECT, WHERE, ORDER BY, LIMIT, OFFSET, COUNT(), MAX()). Hand-written rather than a
// general SOQL library so that string escapes, case-insensitive comparisons and the error messages
// (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE) match Salesforce exactly.
import { ApiError } from './errors.ts';
import { sfDateTime, type Org, type SfRecord, type User } from './org.ts';
import { isLongText, type FieldDef, type ObjectDef } from './schema.ts';

export const MAX_SOQL_LENGTH = 100_000; // reference/salesforce.md: statement <= 100,000 characters
export const MAX_LITERAL_LENGTH = 4_000; // reference/salesforce.md: a string literal in WHERE <= 4,000

type Tok = { t: 'id' | 'str' | 'num' | 'dt' | 'date' | 'op' | 'punct' | 'eof'; v: string; pos: number };

// Escape sequences in SOQL string literals (SOQL reference, "Quoted String Escape Sequences").
const ESCAPES: Record<string, string> = {
  n: '\n',
  N: '\n',
  r: '\r',
  R: '\r',
  t: '\t',
  T: '\t',
  b: '\b',
  B: '\b',
  f: '\f',
  F: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

function malformed(q: string, pos: number, msg: string): ApiError {
  const line = q.length > 200 ? q.slice(Math.max(0, pos - 60), pos + 60) : q;
  return new ApiError(400, 'MALFORMED_QUERY', `\n${line}\n${' '.repeat(Math.min(pos, 60))}^\nERROR at Row:1:Column:${pos + 1}\n${msg}`);
}

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= q.length) throw malformed(q, start, 'line 1:' + start + " mismatched character '<EOF>' expecting '''");
        const ch = q[i];
        if (ch === '\\') {
          const nx = q[i + 1];
          if (nx === undefined) throw malformed(q, i, 'Invalid string literal');
          if (nx === '%' || nx === '_') {
            s += '\\' + nx;
            i += 2;
            continue;
          } // kept for LIKE
          if (nx === 'u' && /^[0-9a-fA-F]{4}$/.test(q.slice(i + 2, i + 6))) {
            s += String.fromCharCode(parseInt(q.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (!(nx in ESCAPES))
            throw malformed(q, i, `Invalid string literal '${q.slice(start, i + 2)}'. Illegal character sequence '\\${nx}' in string literal.`);
          s += ESCAPES[nx];
          i += 2;
          continue;
        }
        if (ch === "'") {
          i++;
          break;
        }
        s += ch;
        i++;
      }
      if (s.length > MAX_LITERAL_LENGTH) throw malformed(q, start, `String literal too long: maximum is ${MAX_LITERAL_LENGTH} characters`);
      out.push({ t: 'str', v: s, pos: start });
      continue;
    }
    const dt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/.exec(q.slice(i));
    if (dt) {
      out.push({ t: 'dt', v: dt[0], pos: start });
      i += dt[0].length;
      continue;
    }
    const d = /^\d{4}-\d{2}-\d{2}(?![\dT])/.exec(q.slice(i));
    if (d) {
      out.push({ t: 'date', v: d[0], pos: start });
      i += d[0].length;
      continue;
    }
    const n = /^-?\d+(\.\d+)?/.exec(q.slice(i));
    if (n) {
      out.push({ t: 'num', v: n[0], pos: start });
      i += n[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0], pos: start });
      i += id[0].length;
      continue;
    }
    const op = /^(!=|<>|<=|>=|=|<|>)/.exec(q.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[0], pos: start });
      i += op[0].length;
      continue;
    }
    if ('(),'.includes(c)) {
      out.push({ t: 'punct', v: c, pos: start });
      i++;
      continue;
    }
    throw malformed(q, i, `line 1:${i} no viable alternative at character '${c}'`);
  }
  out.push({ t: 'eof', v: '<EOF>', pos: q.length });
  return out;
}

export type Value = string | number | boolean | null;
export type Cond =
  | { k: 'and' | 'or'; items: Cond[] }
  | { k: 'not'; item: Cond }
  | { k: 'cmp'; field: string; op: string; value: Value; vtype: Tok['t'] | 'null' | 'bool'; pos: number }
  | { k: 'in'; field: string; not: boolean; values: Value[]; pos: number }
  | { k: 'like'; field: string; pattern: string; pos: number };

export interface Query {
  from: string;
  fromPos: number;
  select: { kind: 'field' | 'count' | 'max' | 'min'; field?: string; pos: number; alias?: string }[];
  where?: Cond;
  orderBy: { field: string; desc: boolean; nullsLast: boolean; pos: number }[];
  limit?: number;
  offset?: number;
}

const KEYWORDS = new Set([
  'select',
  'from',
  'where',
  'and',
  'or',
  'not',
  'in',
  'like',
  'order',
  'by',
  'limit',
  'offset',
  'asc',
  'desc',
  'nulls',
  'first',
  'last',
  'null',
  'true',
  'false',
  'includes',
  'excludes',
  'group',
  'having',
]);

export function parseSoql(q: string): Query {
  if (q.length > MAX_SOQL_LENGTH) {
    throw new ApiError(400, 'MALFORMED_QUERY', `SOQL statements cannot be longer than ${MAX_SOQL_LENGTH.toLocaleString('en-US')} characters.`);
  }
  const toks = tokenize(q);
  let p = 0;
  const peek = () => toks[p];
  const kw = (w: string) => peek().t === 'id' && peek().v.toLowerCase() === w;
  const unexpected = () => malformed(q, peek().pos, `unexpected token: ${peek().t === 'str' ? `'${peek().v}'` : peek().v}`);
  const expectKw = (w: string) => {
    if (!kw(w)) throw unexpected();
    p++;
  };
  const expectPunct = (c: string) => {
    if (peek().t !== 'punct' || peek().v !== c) throw unexpected();
    p++;
  };
  const ident = () => {
    const t = peek();
    if (t.t !== 'id' || KEYWORDS.has(t.v.toLowerCase())) throw unexpected();
    p++;
    return t;
  };

  expectKw('select');
  const select: Query['select'] = [];
  do {
    const t = ident();
    const fn = t.v.toLowerCase();
    if ((fn === 'count' || fn === 'max' || fn === 'min') && peek().t === 'punct' && peek().v === '(') {
      p++;
      if (fn === 'count' && peek().v === ')') {
        p++;
        select.push({ kind: 'count', pos: t.pos });
        continue;
      }
      const f = ident();
      expectPunct(')');
      const alias = peek().t === 'id' && !KEYWORDS.has(peek().v.toLowerCase()) ? toks[p++].v : undefined;
      select.push({ kind: fn === 'count' ? 'count' : (fn as 'max' | 'min'), field: f.v, pos: f.pos, alias });
    } else select.push({ kind: 'field', field: t.v, pos: t.pos });
  } while (peek().v === ',' && ++p);
  expectKw('from');
  const from = ident();
  const query: Query = { from: from.v, fromPos: from.pos, select, orderBy: [] };
  if (kw('where')) {
    p++;
    query.where = parseOr();
  }
  if (kw('order')) {
    p++;
    expectKw('by');
    do {
      const f = ident();
      let desc = false;
      let nullsLast = false;
      if (kw('asc')) p++;
      else if (kw('desc')) {
        p++;
        desc = true;
        nullsLast = true;
      }
      if (kw('nulls')) {
        p++;
        if (kw('first')) {
          p++;
          nullsLast = false;
        } else {
          expectKw('last');
          nullsLast = true;
        }
      }
      query.orderBy.push({ field: f.v, desc, nullsLast, pos: f.pos });
    } while (peek().v === ',' && ++p);
  }
  if (kw('limit')) {
    p++;
    if (peek().t !== 'num') throw unexpected();
    query.limit = Number(toks[p++].v);
  }
  if (kw('offset')) {
    p++;
    if (peek().t !== 'num') throw unexpected();
    query.offset = Number(toks[p++].v);
  }
  if (peek().t !== 'eof') throw unexpected();
  return query;

  // SOQL does not let AND and OR mix at one level without parentheses.
  function parseOr(): Cond {
    const first = parseNot();
    if (!kw('and') && !kw('or')) return first;
    const op = peek().v.toLowerCase() as 'and' | 'or';
    const items = [first];
    while (kw(op)) {
      p++;
      items.push(parseNot());
    }
    if (kw('and') || kw('or')) throw unexpected();
    return { k: op, items };
  }
  function parseNot(): Cond {
    if (kw('not')) {
      p++;
      return { k: 'not', item: parseNot() };
    }
    if (peek().t === 'punct' && peek().v === '(') {
      p++;
      const c = parseOr();
      expectPunct(')');
      return c;
    }
    const f = ident();
    if (kw('not') || kw('in')) {
      const not = kw('not');
      if (not) {
        p++;
        if (!kw('in')) throw unexpected();
      }
      p++;
      expectPunct('(');
      const values: Value[] = [];
      do values.push(literal().value);
      while (peek().v === ',' && ++p);
      expectPunct(')');
      return { k: 'in', field: f.v, not, values, pos: f.pos };
    }
    if (kw('like')) {
      p++;
      const t = peek();
      if (t.t !== 'str') throw unexpected();
      p++;
      return { k: 'like', field: f.v, pattern: t.v, pos: f.pos };
    }
    const op = peek();
    if (op.t !== 'op') throw unexpected();
    p++;
    const lit = literal();
    return { k: 'cmp', field: f.v, op: op.v === '<>' ? '!=' : op.v, value: lit.value, vtype: lit.vtype, pos: f.pos };
  }
  function literal(): { value: Value; vtype: Tok['t'] | 'null' | 'bool' } {
    const t = peek();
    if (t.t === 'str') {
      p++;
      return { value: t.v.replace(/\\([%_])/g, '$1'), vtype: 'str' };
    }
    if (t.t === 'num') {
      p++;
      return { value: Number(t.v), vtype: 'num' };
    }
    if (t.t === 'dt') {
      p++;
      return { value: sfDateTime(Date.parse(t.v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))), vtype: 'dt' };
    }
    if (t.t === 'date') {
      p++;
      return { value: t.v, vtype: 'date' };
    }
    if (kw('null')) {
      p++;
      return { value: null, vtype: 'null' };
    }
    if (kw('true') || kw('false')) {
      p++;
      return { value: t.v.toLowerCase() === 'true', vtype: 'bool' };
    }
    throw unexpected();
  }
}

function invalidField(q: string, pos: number, name: string, object: string): ApiError {
  const base = malformed(q, pos, '').message.replace(/\n$/, '');
  return new ApiError(
    400,
    'INVALID_FIELD',
    `${base}\nNo such column '${name}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );
}

function cannot(q: string, pos: number, message: string): ApiError {
  return new ApiError(400, 'INVALID_FIELD', `${malformed(q, pos, '').message.replace(/\n$/, '')}\n${message}`);
}

function cmp(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase(),
      y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) {
      re += '\\' + pattern[++i];
      continue;
    }
    if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp('^' + re + '$', 'i'); // LIKE is case-insensitive in SOQL
}

export interface QueryResult {
  totalSize: number;
  records: SfRecord[];
  aggregate: boolean;
}

/** Runs a parsed query for a user (fields hidden by field-level security are INVALID_FIELD). */
export function runQuery(org: Org, user: User | null, q: string, parsed: Query): QueryResult {
  const found: ObjectDef | undefined = org.schema.objects.get(parsed.from.toLowerCase());
  // An object the user cannot read is reported like one that does not exist.
  const def = found && org.objectAccess(user, found).read ? found : undefined;
  if (!def) {
    throw new ApiError(
      400,
      'INVALID_TYPE',
      `${malformed(q, parsed.fromPos, '').message.replace(/\n$/, '')}\nsObject type '${parsed.from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const fieldOf = (name: string, pos: number): FieldDef => {
    const fd = org.field(user, def, name);
    if (!fd) throw invalidField(q, pos, name, def.name);
    return fd;
  };
  // Resolve every field reference first: unknown columns fail before any row is read.
  const selected = parsed.select.map((s) => ({ ...s, fd: s.field ? fieldOf(s.field, s.pos) : undefined }));
  // A field selected twice is refused ("duplicate field selected: X", with the row and column).
  const seen = new Set<string>();
  for (const s of selected) {
    if (!s.fd || s.kind !== 'field') continue;
    if (seen.has(s.fd.name))
      throw new ApiError(400, 'MALFORMED_QUERY', `${malformed(q, s.pos, '').message.replace(/\n$/, '')}\nduplicate field selected: ${s.fd.name}`);
    seen.add(s.fd.name);
  }
  const order = parsed.orderBy.map((o) => {
    const fd = fieldOf(o.field, o.pos);
    if (isLongText(fd)) throw cannot(q, o.pos, `field '${fd.name}' can not be sorted in a query call`);
    return { ...o, fd };
  });
  const check = (c: Cond | undefined): void => {
    if (!c) return;
    if (c.k === 'and' || c.k === 'or') c.items.forEach(check);
    else if (c.k === 'not') check(c.item);
    else if (c.k === 'cmp' || c.k === 'in' || c.k === 'like') {
      const fd = fieldOf(c.field, c.pos);
      if (isLongText(fd)) throw cannot(q, c.pos, `field '${fd.name}' can not be filtered in a query call`);
      if (c.k === 'cmp' && c.vtype !== 'null') {
        const ok =
          fd.type === 'boolean'
            ? c.vtype === 'bool'
            : fd.type === 'double' || fd.type === 'int'
              ? c.vtype === 'num'
              : fd.type === 'datetime'
                ? c.vtype === 'dt'
                : fd.type === 'date'
                  ? c.vtype === 'date'
                  : c.vtype === 'str';
        if (!ok)
          throw new ApiError(
            400,
            'INVALID_QUERY_FILTER_OPERATOR',
            `${malformed(q, c.pos, '').message.replace(/\n$/, '')}\nvalue of filter criterion for field '${fd.name}' must be of type ${fd.type} and should not be enclosed in quotes`,
          );
      }
    }
  };
  check(parsed.where);

  const table = org.tables.get(def.name.toLowerCase())!;
  // Index use: an equality or IN on an indexed field (or an OR of them) narrows the candidates.
  const candidates = (c: Cond | undefined): Iterable<SfRecord> | undefined => {
    if (!c) return undefined;
    const ids = (field: string, values: Value[]) => {
      const out = new Set<string>();
      for (const v of values) {
        const found = v === null ? undefined : org.indexed(def.name, field, v);
        if (!found) return undefined;
        for (const id of found) out.add(id);
      }
      return [...out].map((id) => table.rows.get(id)!).filter(Boolean);
    };
    if (c.k === 'cmp' && c.op === '=') return ids(c.field, [c.value]);
    if (c.k === 'in' && !c.not) return ids(c.field, c.values);
    if (c.k === 'and') {
      for (const it of c.items) {
        const r = candidates(it);
        if (r) return r;
      }
      return undefined;
    }
    if (c.k === 'or') {
      const all = new Map<string, SfRecord>();
      for (const it of c.items) {
        const r = candidates(it);
        if (!r) return undefined;
        for (const rec of r) all.set(rec.Id as string, rec);
      }
      return all.values();
    }
    return undefined;
  };
  const test = (rec: SfRecord, c: Cond): boolean => {
    switch (c.k) {
      case 'and':
        return c.items.every((x) => test(rec, x));
      case 'or':
        return c.items.some((x) => test(rec, x));
      case 'not':
        return !test(rec, c.item);
      case 'in': {
        const v = rec[def.fields.get(c.field.toLowerCase())!.name] ?? null;
        const hit = c.values.some((x) => (x === null ? v === null : v !== null && cmp(v, x) === 0));
        return c.not ? !hit : hit;
      }
      case 'like': {
        const v = rec[def.fields.get(c.field.toLowerCase())!.name];
        return typeof v === 'string' && likeToRegExp(c.pattern).test(v);
      }
      case 'cmp': {
        const v = rec[def.fields.get(c.field.toLowerCase())!.name] ?? null;
        if (c.value === null) return c.op === '=' ? v === null : c.op === '!=' ? v !== null : false;
        if (v === null) return c.op === '!=';
        const r = cmp(v, c.value);
        return c.op === '=' ? r === 0 : c.op === '!=' ? r !== 0 : c.op === '<' ? r < 0 : c.op === '>' ? r > 0 : c.op === '<=' ? r <= 0 : r >= 0;
      }
    }
  };
  let rows: SfRecord[] = [];
  for (const rec of candidates(parsed.where) ?? table.rows.values()) if (!parsed.where || test(rec, parsed.where)) rows.push(rec);

  const aggregates = selected.filter((s) => s.kind !== 'field');
  if (selected.length === 1 && selected[0].kind === 'count' && !selected[0].fd) {
    return { totalSize: rows.length, records: [], aggregate: false };
  }
  if (aggregates.length) {
    if (aggregates.length !== selected.length)
      throw malformed(
        q,
        selected.find((s) => s.kind === 'field')!.pos,
        'Field must be grouped or aggregated: ' + selected.find((s) => s.kind === 'field')!.field,
      );
    const rec: SfRecord = { attributes: { type: 'AggregateResult' } };
    aggregates.forEach((a, i) => {
      const vals = rows.map((r) => r[a.fd!.name]).filter((v) => v !== null && v !== undefined);
      rec[a.alias ?? `expr${i}`] =
        a.kind === 'count' ? vals.length : vals.length ? vals.reduce((x, y) => ((a.kind === 'max' ? cmp(x, y) >= 0 : cmp(x, y) <= 0) ? x : y)) : null;
    });
    return { totalSize: 1, records: [rec], aggregate: true };
  }
  if (order.length) {
    rows.sort((a, b) => {
      for (const o of order) {
        const x = a[o.fd.name] ?? null,
          y = b[o.fd.name] ?? null;
        if (x === y) continue;
        if (x === null) return o.nullsLast ? 1 : -1;
        if (y === null) return o.nullsLast ? -1 : 1;
        const r = cmp(x, y);
        if (r) return o.desc ? -r : r;
      }
      return 0;
    });
  }
  if (parsed.offset) rows = rows.slice(parsed.offset);
  if (parsed.limit !== undefined) rows = rows.slice(0, parsed.limit);
  const records = rows.map((r) => {
    const out: SfRecord = { attributes: { type: def.name, url: '' } };
    for (const s of selected) out[s.fd!.name] = r[s.fd!.name] ?? null;
    return out;
  });
  return { totalSize: records.length, records, aggregate: false };
}
