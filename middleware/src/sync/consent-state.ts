// Per-user consent state: for every key (purpose, preference, attribute) the value of the newest
// Didomi fact that set it. Newest = Didomi's timestamp, ties broken by a deterministic key, so
// arrival order and duplicates never change the result (DESIGN.md "Merge").
import type { Fact } from '../didomi/facts.ts';

export interface Stamped {
  v: Fact['value'];
  at: string;
  tie: string;
}

export interface ConsentState {
  facts: Record<string, Stamped>;
  /** Newest Didomi timestamp of any fact folded in. */
  updatedAt: string | null;
}

export const emptyState = (): ConsentState => ({ facts: {}, updatedAt: null });

function newer(a: Stamped, b: { at: string; tie: string; v: unknown }): boolean {
  if (b.at !== a.at) return b.at > a.at;
  if (b.tie !== a.tie) return b.tie > a.tie;
  return JSON.stringify(b.v) > JSON.stringify(a.v);
}

/** Folds facts into a state (pure: returns a new state). */
export function merge(state: ConsentState | null, facts: Fact[]): ConsentState {
  const out: ConsentState = { facts: { ...(state?.facts ?? {}) }, updatedAt: state?.updatedAt ?? null };
  for (const f of facts) {
    const cur = out.facts[f.key];
    if (!cur || newer(cur, { at: f.at, tie: f.tie, v: f.value })) out.facts[f.key] = { v: f.value, at: f.at, tie: f.tie };
    if (!out.updatedAt || f.at > out.updatedAt) out.updatedAt = f.at;
  }
  return out;
}

/** The user is deleted when the newest fact of all is a deletion. */
export function isDeleted(s: ConsentState): boolean {
  const d = s.facts.deleted;
  if (!d || d.v !== true) return false;
  return Object.entries(s.facts).every(([k, f]) => k === 'deleted' || f.at <= d.at);
}

/** A compact, readable snapshot for Didomi_Consents__c (audit). */
export function snapshot(userKey: string, s: ConsentState): string {
  const purposes: Record<string, Record<string, boolean>> = {};
  const preferences: Record<string, Record<string, string[]>> = {};
  const attributes: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(s.facts)) {
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
