// Building SOQL safely: every literal is escaped exactly as Salesforce defines it (SOQL reference,
// "Quoted String Escape Sequences"; reference/salesforce.md: `'` as `\'`, `\` as `\\`), so no
// input can change a query's shape.
const ESC: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '"': '\\"' };

export function soqlString(value: string): string {
  return "'" + value.replace(/[\\'\n\r\t\b\f"]/g, (c) => ESC[c]) + "'";
}

/** API names come from the org's config: allow only identifier characters. */
export function soqlIdent(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a Salesforce API name: ${JSON.stringify(name)}`);
  return name;
}

export const MAX_LITERAL = 4000; // reference/salesforce.md: a string literal in WHERE at most 4,000 characters
/** Keep each query well under the 16,384-byte URI limit once URL-encoded (reference/salesforce.md). */
export const MAX_IN_BYTES = 5000;

/** Splits values into IN-list chunks whose encoded size stays under the URI limit. */
export function inChunks(values: string[], maxBytes = MAX_IN_BYTES): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const v of values) {
    if (v.length > MAX_LITERAL) continue; // cannot be matched by a SOQL literal; such ids are upserted only
    const n = encodeURIComponent(soqlString(v)).length + 3;
    if (cur.length && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(v);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

export function inList(values: string[]): string {
  return '(' + values.map(soqlString).join(', ') + ')';
}
