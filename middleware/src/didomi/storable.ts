// What the stores cannot hold, refused at the boundary with a 400 naming it (so Didomi stops
// retrying) instead of a 503 forever: PostgreSQL's jsonb and text refuse U+0000, and jsonb refuses
// unpaired UTF-16 surrogates ("unsupported Unicode escape sequence", PostgreSQL docs 8.14 "JSON
// Types"); a value nested thousands of levels deep overflows the stack of anything recursive
// (JSON.stringify, the SQLite store's group commit). Didomi's payloads nest about ten levels.
export const MAX_JSON_DEPTH = 64;

export interface StorableProblem {
  path: string;
  message: string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains U+0000 (NUL), which the store cannot hold';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate, which the store cannot hold';
  return null;
}

/** The first part of a parsed JSON value the stores cannot hold, or null. Iterative: any depth is safe to inspect. */
export function storableProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): StorableProblem | null {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  const at = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p) return { path, message: p };
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: at(path, String(i)) }));
    else
      for (const [k, x] of Object.entries(v)) {
        const p = textProblem(k);
        if (p) return { path: at(path, JSON.stringify(k.replace(/\u0000/g, '\\u0000')).slice(1, -1)), message: `a key ${p}` };
        stack.push({ v: x, depth: depth + 1, path: at(path, k) });
      }
  }
  return null;
}
