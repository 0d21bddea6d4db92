// Didomi webhook payloads (reference/didomi.md "Webhooks" and "Consent user and consent event
// objects"): `{type, parameters}`. Unknown extra fields are tolerated (Didomi adds fields over
// time); the fields the sync reads are type-checked. Both consent trees are accepted: the current
// `values` map and the deprecated v1 `preferences[]` list.
import { z } from 'zod';
import type { Json, NewEvent } from '../store/types.ts';
import { userKeyFor } from './user-key.ts';
import { storableProblem } from './storable.ts';
import { dedupeKeyOf } from './dedupe-key.ts';

// Length and count limits, shared by the Zod schemas and the fast path below so the two cannot drift.
const MAX = {
  /** ids, organization ids and user ids, preference keys and list values */
  id: 255,
  /** a preference's free value */
  value: 4000,
  /** items in a list (purposes, channels, legacy preferences, a preference's values) */
  items: 500,
  /** dates, countries, statuses, id types */
  short: 64,
  regulation: 40,
} as const;

const id = z.string().min(1).max(MAX.id);
const isoDate = z
  .string()
  .max(MAX.short)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

export const PreferenceValueSchema = z.looseObject({ value: z.string().max(MAX.value) });

/** Deprecated v1 tree: purposes[].preferences[] (orgs created before 2022-01-18). */
export const LegacyPreferenceSchema = z.looseObject({
  id,
  enabled: z.boolean().nullable().optional(),
  value: z.string().max(MAX.value).optional(),
  values: z.array(z.string().max(MAX.id)).max(MAX.items).optional(),
});

export const PurposeSchema = z.looseObject({
  id,
  enabled: z.boolean().nullable().optional(),
  enabled_li: z.boolean().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional().nullable(),
  values: z.record(z.string().max(MAX.id), PreferenceValueSchema).optional().nullable(),
  preferences: z.array(LegacyPreferenceSchema).max(MAX.items).optional().nullable(),
});

export const ConsentsSchema = z.looseObject({
  purposes: z.array(PurposeSchema).max(MAX.items).optional().nullable(),
  channels: z.array(z.unknown()).max(MAX.items).optional().nullable(),
  vendors: z.unknown().optional(),
  tcfcs: z.unknown().optional(),
});

const country = z.string().max(MAX.short).nullable().optional();

export const ConsentUserSchema = z.looseObject({
  id,
  organization_id: z.string().max(MAX.id).optional(),
  organization_user_id: z.string().max(MAX.id).nullable().optional(),
  organization_user_id_type: z.string().max(MAX.short).nullable().optional(),
  version: z.number().int().nonnegative().optional(),
  created_at: isoDate.optional(),
  updated_at: isoDate.optional(),
  metadata: z.record(z.string(), z.unknown()).optional().nullable(),
  country,
  last_seen_country: country,
  regulation: z.string().max(MAX.regulation).optional(),
  consents: ConsentsSchema.optional().nullable(),
});

export const ConsentEventSchema = z.looseObject({
  id,
  organization_id: z.string().max(MAX.id).optional(),
  created_at: isoDate,
  updated_at: isoDate.optional(),
  status: z.string().max(MAX.short).optional(),
  regulation: z.string().max(MAX.regulation).optional(),
  user: z.looseObject({
    id: id.optional(),
    organization_user_id: z.string().max(MAX.id).nullable().optional(),
    metadata: z.record(z.string(), z.unknown()).optional().nullable(),
    country,
    last_seen_country: country,
  }),
  consents: ConsentsSchema.optional().nullable(),
  proofs_id: z.unknown().optional(),
  delegate: z.unknown().optional(),
});

const entity = <T extends z.ZodType>(s: T) => z.looseObject({ entity: s });
const change = <T extends z.ZodType>(s: T) => z.looseObject({ source: z.unknown().optional(), old_entity: s.optional().nullable(), new_entity: s });

export const DidomiWebhookSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('event.created'), parameters: entity(ConsentEventSchema) }),
  z.looseObject({ type: z.literal('event.updated'), parameters: change(ConsentEventSchema) }),
  z.looseObject({ type: z.literal('event.deleted'), parameters: entity(ConsentEventSchema) }),
  z.looseObject({ type: z.literal('user.created'), parameters: entity(ConsentUserSchema) }),
  z.looseObject({ type: z.literal('user.updated'), parameters: change(ConsentUserSchema) }),
  z.looseObject({ type: z.literal('user.deleted'), parameters: entity(ConsentUserSchema) }),
]);

export type DidomiWebhook = z.infer<typeof DidomiWebhookSchema>;
export type ConsentEvent = z.infer<typeof ConsentEventSchema>;
export type ConsentUser = z.infer<typeof ConsentUserSchema>;
export type Purpose = z.infer<typeof PurposeSchema>;

export class WebhookValidationError extends Error {
  readonly details: { path: string; message: string }[];
  constructor(details: { path: string; message: string }[]) {
    super(details.map((d) => `${d.path || '(body)'}: ${d.message}`).join('; '));
    this.details = details;
  }
}

// ---- Fast path (issue 17): the schemas above as plain checks, true only where they accept ----
// Zod builds a copy of every object it checks (~7 % of the CPU per accepted webhook in a profile). For
// parsed JSON its output equals the input, except that it drops `__proto__` keys: those, like anything
// refused, are left to Zod, which stays the one that answers and names problems. A property test holds
// the two together (unit.test.ts: any check accepted here, Zod accepts with the same output).
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.hasOwn(v, '__proto__');
const str = (v: unknown, max: number, min = 0) => typeof v === 'string' && v.length <= max && v.length >= min;
const optStr = (v: unknown, max: number) => v === undefined || str(v, max);
const optNullStr = (v: unknown, max: number) => v === null || optStr(v, max);
const isId = (v: unknown) => str(v, MAX.id, 1);
const isDate = (v: unknown) => str(v, MAX.short) && !Number.isNaN(Date.parse(v as string));
const optNullBool = (v: unknown) => v === undefined || v === null || typeof v === 'boolean';
const optNullRecord = (v: unknown) => v === undefined || v === null || isObj(v);
function everyItem(v: unknown, max: number, ok: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v) || v.length > max) return false;
  for (let i = 0; i < v.length; i++) if (!ok(v[i])) return false; // (a loop, not every(): a hole is checked too)
  return true;
}
const optNullList = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || v === null || everyItem(v, MAX.items, ok);

function legacyPreferenceOk(v: unknown): boolean {
  if (!isObj(v)) return false;
  return (
    isId(v.id) && optNullBool(v.enabled) && optStr(v.value, MAX.value) && (v.values === undefined || everyItem(v.values, MAX.items, (x) => str(x, MAX.id)))
  );
}
function valuesOk(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (!isObj(v)) return false;
  for (const k of Object.keys(v)) {
    const x = v[k];
    if (k.length > MAX.id || !isObj(x) || !str(x.value, MAX.value)) return false;
  }
  return true;
}
function purposeOk(v: unknown): boolean {
  if (!isObj(v)) return false;
  return (
    isId(v.id) &&
    optNullBool(v.enabled) &&
    optNullBool(v.enabled_li) &&
    optNullRecord(v.metadata) &&
    valuesOk(v.values) &&
    optNullList(v.preferences, legacyPreferenceOk)
  );
}
function consentsOk(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  return isObj(v) && optNullList(v.purposes, purposeOk) && optNullList(v.channels, () => true);
}
function eventOk(v: unknown): boolean {
  if (!isObj(v)) return false;
  const u = v.user;
  return (
    isId(v.id) &&
    optStr(v.organization_id, MAX.id) &&
    isDate(v.created_at) &&
    (v.updated_at === undefined || isDate(v.updated_at)) &&
    optStr(v.status, MAX.short) &&
    optStr(v.regulation, MAX.regulation) &&
    isObj(u) &&
    (u.id === undefined || isId(u.id)) &&
    optNullStr(u.organization_user_id, MAX.id) &&
    optNullRecord(u.metadata) &&
    optNullStr(u.country, MAX.short) &&
    optNullStr(u.last_seen_country, MAX.short) &&
    consentsOk(v.consents)
  );
}
function userOk(v: unknown): boolean {
  if (!isObj(v)) return false;
  return (
    isId(v.id) &&
    optStr(v.organization_id, MAX.id) &&
    optNullStr(v.organization_user_id, MAX.id) &&
    optNullStr(v.organization_user_id_type, MAX.short) &&
    (v.version === undefined || (Number.isSafeInteger(v.version) && (v.version as number) >= 0)) &&
    (v.created_at === undefined || isDate(v.created_at)) &&
    (v.updated_at === undefined || isDate(v.updated_at)) &&
    optNullRecord(v.metadata) &&
    optNullStr(v.country, MAX.short) &&
    optNullStr(v.last_seen_country, MAX.short) &&
    optStr(v.regulation, MAX.regulation) &&
    consentsOk(v.consents)
  );
}
const entityOk = (p: Obj, ok: (v: unknown) => boolean) => ok(p.entity);
const changeOk = (p: Obj, ok: (v: unknown) => boolean) => ok(p.new_entity) && (p.old_entity === undefined || p.old_entity === null || ok(p.old_entity));
const FAST: Record<string, (p: Obj) => boolean> = {
  'event.created': (p) => entityOk(p, eventOk),
  'event.updated': (p) => changeOk(p, eventOk),
  'event.deleted': (p) => entityOk(p, eventOk),
  'user.created': (p) => entityOk(p, userOk),
  'user.updated': (p) => changeOk(p, userOk),
  'user.deleted': (p) => entityOk(p, userOk),
};

/** True only when DidomiWebhookSchema accepts `body` and its output would equal `body` (see above). */
export function plainlyValid(body: unknown): body is DidomiWebhook {
  if (!isObj(body) || typeof body.type !== 'string' || !Object.hasOwn(FAST, body.type)) return false;
  return isObj(body.parameters) && FAST[body.type](body.parameters);
}

/** Validates a webhook body; throws WebhookValidationError naming each problem. */
export function parseWebhook(body: unknown): DidomiWebhook {
  const unstorable = storableProblem(body);
  if (unstorable) throw new WebhookValidationError([unstorable]);
  if (plainlyValid(body) && userKeyOf(body)) return body;
  const r = DidomiWebhookSchema.safeParse(body);
  if (!r.success) {
    throw new WebhookValidationError(r.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  }
  const w = r.data;
  const key = userKeyOf(w);
  if (!key) throw new WebhookValidationError([{ path: 'parameters', message: 'no organization_user_id nor user id to attach the consent to' }]);
  return w;
}

/** The entity that carries the current state of the webhook's subject. */
export function currentEntity(w: DidomiWebhook): ConsentEvent | ConsentUser {
  const p = w.parameters as { entity?: ConsentEvent | ConsentUser; new_entity?: ConsentEvent | ConsentUser };
  return (p.new_entity ?? p.entity)!;
}

export function isEventType(w: DidomiWebhook): boolean {
  return w.type.startsWith('event.');
}

/** organization_user_id (the customer's own id, what CRM integrations match on), else Didomi's user id (didomi/user-key.ts). */
export function userKeyOf(w: DidomiWebhook): string | null {
  const e = currentEntity(w);
  if (isEventType(w)) {
    const u = (e as ConsentEvent).user;
    return userKeyFor(u.organization_user_id, u.id);
  }
  const u = e as ConsentUser;
  return userKeyFor(u.organization_user_id, u.id);
}

/** Didomi's own time for the change: what "newest wins" compares, never the arrival order. */
export function occurredAtOf(w: DidomiWebhook): string {
  const e = currentEntity(w) as { updated_at?: string; created_at?: string };
  const t = (isEventType(w) ? (e.updated_at ?? e.created_at) : (e.updated_at ?? e.created_at)) ?? new Date(0).toISOString();
  return new Date(Date.parse(t)).toISOString();
}

/** The event to store, keyed for de-duplication by its content (didomi/dedupe-key.ts). */
export function toNewEvent(w: DidomiWebhook): NewEvent {
  return {
    dedupeKey: dedupeKeyOf(w.type, w.parameters),
    userKey: userKeyOf(w)!,
    type: w.type,
    occurredAt: occurredAtOf(w),
    payload: w as unknown as Json,
  };
}
