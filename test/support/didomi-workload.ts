// A reproducible Didomi workload for the benchmark and the reliability suite: N real-shaped webhooks
// over M users (event.created with partial choices, user.updated with full state), a share
// redelivered and a share out of order; plus an INDEPENDENT computation of the expected Salesforce
// field values (newest Didomi timestamp wins per purpose / preference, then the seeded mappings),
// written without the middleware's code so the two can check each other.
import { eventCreated, userUpdated } from './didomi-events.ts';
import { PURPOSE, PHONE_PURPOSE, PREFERENCE, VALUE_WEEKLY, VALUE_OFFERS, VALUE_EVENTS, VALUE_LABELS } from './org-fixture.ts';

/** mulberry32: a tiny seeded PRNG so every run posts the same workload. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadOptions {
  events: number;
  users: number;
  duplicateShare?: number; // redelivered identical webhooks
  outOfOrderShare?: number; // delivered after a newer event of the same user
  userUpdatedShare?: number;
  seed?: number;
  emailOf?: (i: number) => string;
}

export interface WorkItem {
  user: string;
  body: unknown;
  /** Didomi's time of the change: what newest-wins compares. */
  at: number;
  choice: { purposes: Record<string, boolean>; preferences: Record<string, string[]> };
  duplicate: boolean;
}

const VALUES = [VALUE_WEEKLY, VALUE_OFFERS, VALUE_EVENTS];

export function userEmail(i: number): string {
  return `bench.user${i}@example.com`;
}

export function makeWorkload(o: WorkloadOptions): WorkItem[] {
  const rnd = prng(o.seed ?? 42);
  const emailOf = o.emailOf ?? userEmail;
  const base = Date.parse('2026-11-01T00:00:00Z');
  const clock = new Array(o.users).fill(0);
  const originals: WorkItem[] = [];
  const nDup = Math.round(o.events * (o.duplicateShare ?? 0.05));
  for (let n = 0; n < o.events - nDup; n++) {
    const u = Math.floor(rnd() * o.users);
    clock[u] += 1 + Math.floor(rnd() * 60);
    const at = base + u * 1000 + clock[u] * 1000; // strictly increasing per user: no ties
    const user = emailOf(u);
    const full = rnd() < (o.userUpdatedShare ?? 0.3);
    const purposes: Record<string, boolean> = {};
    const preferences: Record<string, string[]> = {};
    if (full || rnd() < 0.6) purposes[PURPOSE] = rnd() < 0.5;
    if (full || rnd() < 0.3) purposes[PHONE_PURPOSE] = rnd() < 0.5;
    if (full || rnd() < 0.4) preferences[PREFERENCE] = VALUES.filter(() => rnd() < 0.5);
    if (!Object.keys(purposes).length && !Object.keys(preferences).length) purposes[PURPOSE] = rnd() < 0.5;
    const choice = { purposes, preferences };
    const body = full ? userUpdated(user, new Date(at), choice, clock[u]) : eventCreated(user, new Date(at), choice, { id: `ev-${n}` });
    originals.push({ user, body, at, choice, duplicate: false });
  }
  // Out of order: move a share of events after a later event of the same user.
  const items = [...originals];
  const nOoo = Math.round(o.events * (o.outOfOrderShare ?? 0.1));
  for (let k = 0; k < nOoo; k++) {
    const i = Math.floor(rnd() * (items.length - 1));
    const j = items.findIndex((x, idx) => idx > i && x.user === items[i].user);
    if (j > 0) {
      const [moved] = items.splice(i, 1);
      items.splice(j, 0, moved);
    }
  }
  // Redeliveries: identical copies posted later.
  for (let k = 0; k < nDup; k++) {
    const src = originals[Math.floor(rnd() * originals.length)];
    const pos = Math.min(items.length, items.indexOf(src) + 1 + Math.floor(rnd() * 50));
    items.splice(pos, 0, { ...src, body: JSON.parse(JSON.stringify(src.body)), duplicate: true });
  }
  return items;
}

export interface ExpectedLead {
  HasOptedOutOfEmail: boolean;
  DoNotCall: boolean;
  Newsletter_Topics__c: string | null;
  Weekly_Digest__c: boolean;
}

/** Newest-wins per key, then the seeded Lead mappings (org-fixture.ts), computed independently. */
export function expectedLeads(items: WorkItem[]): Map<string, Partial<ExpectedLead>> {
  const latest = new Map<string, Map<string, { at: number; v: unknown }>>();
  for (const it of items) {
    const m = latest.get(it.user) ?? new Map();
    latest.set(it.user, m);
    const set = (k: string, v: unknown) => {
      const cur = m.get(k);
      if (!cur || it.at > cur.at) m.set(k, { at: it.at, v });
    };
    for (const [p, v] of Object.entries(it.choice.purposes)) set(`p:${p}`, v);
    for (const [p, v] of Object.entries(it.choice.preferences)) set(`pref:${p}`, v);
  }
  const out = new Map<string, Partial<ExpectedLead>>();
  for (const [user, m] of latest) {
    const e: Partial<ExpectedLead> = {};
    const mk = m.get(`p:${PURPOSE}`);
    if (mk) e.HasOptedOutOfEmail = !mk.v;
    const ph = m.get(`p:${PHONE_PURPOSE}`);
    if (ph) e.DoNotCall = !ph.v;
    const pr = m.get(`pref:${PREFERENCE}`);
    if (pr) {
      const ids = [...(pr.v as string[])].sort();
      e.Newsletter_Topics__c = ids.length ? ids.map((id) => VALUE_LABELS[id as keyof typeof VALUE_LABELS]).join(';') : null;
      e.Weekly_Digest__c = ids.includes(VALUE_WEEKLY);
    }
    out.set(user, e);
  }
  return out;
}

/** Compares Lead records (by Email) with the expected values; returns the mismatching users. */
export function mismatches(
  leads: Record<string, any>[],
  expected: Map<string, Partial<ExpectedLead>>,
): { user: string; field: string; expected: unknown; actual: unknown }[] {
  const byEmail = new Map(leads.map((l) => [String(l.Email).toLowerCase(), l]));
  const out: { user: string; field: string; expected: unknown; actual: unknown }[] = [];
  for (const [user, e] of expected) {
    const rec = byEmail.get(user.toLowerCase());
    for (const [f, v] of Object.entries(e)) {
      const actual = rec ? (rec[f] ?? null) : undefined;
      if (actual !== v) out.push({ user, field: f, expected: v, actual });
    }
  }
  return out;
}
