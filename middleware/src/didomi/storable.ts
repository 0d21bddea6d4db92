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

// Any character textProblem could object to; nearly every string has none, so one scan clears it.
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/**
 * True when `v` certainly holds nothing textProblem or the depth limit refuses: the answer for nearly
 * every webhook, found without the walker's per-node objects and path strings (those were ~2 % of the
 * CPU per accepted webhook). False only means "look closer". Recursion stops at maxDepth, so it is safe.
 */
function plainlyStorable(v: unknown, depth: number, maxDepth: number): boolean {
  if (typeof v === 'string') return !SUSPECT.test(v);
  if (!v || typeof v !== 'object') return true;
  if (depth >= maxDepth) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!plainlyStorable(v[i], depth + 1, maxDepth)) return false;
    return true;
  }
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++)
    if (SUSPECT.test(keys[i]) || !plainlyStorable((v as Record<string, unknown>)[keys[i]], depth + 1, maxDepth)) return false;
  return true;
}

/** The first part of a parsed JSON value the stores cannot hold, or null. Iterative: any depth is safe to inspect. */
export function storableProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): StorableProblem | null {
  if (plainlyStorable(value, 0, maxDepth)) return null;
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
