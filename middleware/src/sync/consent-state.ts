// Per-user consent state: for every key (purpose, preference, attribute) the value of the newest
// Didomi fact that set it, so arrival order and duplicates never change the result (DESIGN.md
// "Merge"). Newest = Didomi's time, then the fact's order (didomi/facts.ts). Where Didomi's
// documentation is silent the privacy principle decides (DESIGN.md "Safety"): a deletion wins a tie
// and forgets every fact up to its time; two different choices at the very same instant and order
// resolve to what both grant (a refusal wins), never to an arbitrary hash.
import { CONFIRMED, PENDING, type Fact } from '../didomi/facts.ts';

export interface Stamped {
  v: Fact['value'];
  at: string;
  order: string;
}

export interface ConsentState {
  facts: Record<string, Stamped>;
  /** Time of the newest user.deleted: no fact at or before it counts any more. */
  deletedAt: string | null;
  /** Newest Didomi timestamp of any fact folded in. */
  updatedAt: string | null;
}

export const emptyState = (): ConsentState => ({ facts: {}, deletedAt: null, updatedAt: null });

/** >0 when a is newer than b. States saved before `order` existed compare lowest. */
export function compareStamps(a: { at: string; order?: string }, b: { at: string; order?: string }): number {
  if (a.at !== b.at) return a.at > b.at ? 1 : -1;
  const ao = a.order ?? '';
  const bo = b.order ?? '';
  return ao === bo ? 0 : ao > bo ? 1 : -1;
}

const isConsentKey = (key: string) => /^(purpose|pref):/.test(key);

/**
 * What two equally new facts both say: for a consent, only what both grant (false beats true, the
 * intersection of two selections); for an attribute, the smaller value (deterministic, grants nothing).
 * Commutative, associative and idempotent, so any order and any duplicates give one result.
 */
export function meet(key: string, a: Fact['value'], b: Fact['value']): Fact['value'] {
  if (isConsentKey(key)) {
    if (typeof a === 'boolean' && typeof b === 'boolean') return a && b;
    if (Array.isArray(a) && Array.isArray(b)) return a.filter((x) => b.includes(x)).sort();
  }
  return JSON.stringify(a) <= JSON.stringify(b) ? a : b;
}

/** A state as saved by any version: the pre-issue-12 `deleted` fact becomes deletedAt. */
function normalise(state: ConsentState | null): ConsentState {
  const out: ConsentState = { facts: { ...(state?.facts ?? {}) }, deletedAt: state?.deletedAt ?? null, updatedAt: state?.updatedAt ?? null };
  const legacy = out.facts.deleted as (Stamped & { v: unknown }) | undefined;
  if (legacy) {
    delete out.facts.deleted;
    if (legacy.v === true && (!out.deletedAt || legacy.at > out.deletedAt)) out.deletedAt = legacy.at;
  }
  return out;
}

/** Folds facts into a state (pure: returns a new state). */
export function merge(state: ConsentState | null, facts: Fact[]): ConsentState {
  const out = normalise(state);
  for (const f of facts) {
    if (!out.updatedAt || f.at > out.updatedAt) out.updatedAt = f.at;
    if (f.key === 'deleted') {
      if (f.value === true && (!out.deletedAt || f.at > out.deletedAt)) out.deletedAt = f.at;
      continue;
    }
    if (out.deletedAt && f.at <= out.deletedAt) continue; // erased: the deletion wins a tie
    const cur = out.facts[f.key];
    const c = cur ? compareStamps(f, cur) : 1;
    if (c > 0) out.facts[f.key] = { v: f.value, at: f.at, order: f.order };
    else if (c === 0) out.facts[f.key] = { ...cur, v: meet(f.key, cur.v, f.value) };
  }
  if (out.deletedAt) for (const [k, f] of Object.entries(out.facts)) if (f.at <= out.deletedAt) delete out.facts[k];
  return out;
}

/** The user is deleted while no event came after the newest deletion. */
export function isDeleted(s: ConsentState): boolean {
  const legacy = s.facts.deleted;
  const d = s.deletedAt ?? (legacy?.v === true ? legacy.at : null);
  return d !== null && !Object.entries(s.facts).some(([k, f]) => k !== 'deleted' && f.at > d);
}

/** Nothing at all grants: false, or an empty selection. */
const refusesAll = (v: Fact['value'] | undefined) => v === false || (Array.isArray(v) && v.length === 0);

/** Choices of events still pending approval, by the key they would set (keys: didomi/facts.ts). */
function pendingChoices(s: ConsentState): Map<string, { eventId: string; f: Stamped }[]> {
  const out = new Map<string, { eventId: string; f: Stamped }[]>();
  for (const [k, f] of Object.entries(s.facts)) {
    if (!k.startsWith(PENDING)) continue;
    const rest = k.slice(PENDING.length);
    const i = rest.indexOf(':');
    const key = rest.slice(i + 1);
    out.set(key, [...(out.get(key) ?? []), { eventId: rest.slice(0, i), f }]);
  }
  return out;
}

/**
 * The value that counts for a key: the newest confirmed choice, restricted by every choice of a
 * not-yet-confirmed event that is not older than it. A pending choice can only take away: a pending
 * refusal applies at once, a pending grant waits for Didomi's confirmation of that very event (a
 * user.updated does not apply pending events, so it cannot cancel one). undefined: nothing to apply.
 */
function resolve(s: ConsentState, key: string, pending: { eventId: string; f: Stamped }[]): Stamped | undefined {
  const c = s.facts[key];
  let v: Fact['value'] | undefined = c?.v;
  let newest: Stamped | undefined;
  for (const { eventId, f } of pending) {
    if (s.facts[CONFIRMED + eventId]) continue; // confirmed: its confirmed version is an ordinary fact
    if (c && f.at < c.at) continue; // superseded by a newer confirmed choice
    v = v === undefined ? f.v : meet(key, v, f.v);
    if (!newest || compareStamps(f, newest) > 0) newest = f;
  }
  if (c) return v === c.v ? c : { ...c, v: v! };
  return newest && refusesAll(v) ? { ...newest, v: v! } : undefined;
}

export function effective(s: ConsentState, key: string): Stamped | undefined {
  return resolve(s, key, pendingChoices(s).get(key) ?? []);
}

/** Every key with a value that counts (pending-only grants excluded), with that value. */
export function effectiveFacts(s: ConsentState): [string, Stamped][] {
  const pending = pendingChoices(s);
  const keys = new Set([...Object.keys(s.facts).filter((k) => !k.startsWith(PENDING)), ...pending.keys()]);
  const out: [string, Stamped][] = [];
  for (const k of keys) {
    const f = resolve(s, k, pending.get(k) ?? []);
    if (f) out.push([k, f]);
  }
  return out;
}

/** A compact, readable snapshot for Didomi_Consents__c (audit): the values that count. */
export function snapshot(userKey: string, s: ConsentState): string {
  const purposes: Record<string, Record<string, boolean>> = {};
  const preferences: Record<string, Record<string, string[]>> = {};
  const attributes: Record<string, unknown> = {};
  for (const [k, f] of effectiveFacts(s)) {
    const [kind, reg, ...rest] = k.split(':');
    if (kind === 'purpose') (purposes[reg] ??= {})[rest.join(':')] = f.v as boolean;
    else if (kind === 'pref') (preferences[reg] ??= {})[rest.join(':')] = f.v as string[];
    else if (kind === 'attr') attributes[[reg, ...rest].join(':')] = f.v;
  }
  return JSON.stringify({
    organization_user_id: userKey,
    didomi_user_id: s.facts.didomiId?.v ?? null,
    updated_at: s.updatedAt,
    purposes,
    preferences,
    attributes,
  });
}
