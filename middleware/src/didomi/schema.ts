// Didomi webhook payloads (reference/didomi.md "Webhooks" and "Consent user and consent event
// objects"): `{type, parameters}`. Unknown extra fields are tolerated (Didomi adds fields over
// time); the fields the sync reads are type-checked. Both consent trees are accepted: the current
// `values` map and the deprecated v1 `preferences[]` list.
import { z } from 'zod';
import type { Json, NewEvent } from '../store/types.ts';
import { userKeyFor } from './user-key.ts';
import { storableProblem } from './storable.ts';
import { dedupeKeyOf } from './dedupe-key.ts';

const id = z.string().min(1).max(255);
const isoDate = z
  .string()
  .max(64)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

export const PreferenceValueSchema = z.looseObject({ value: z.string().max(4000) });

/** Deprecated v1 tree: purposes[].preferences[] (orgs created before 2022-01-18). */
export const LegacyPreferenceSchema = z.looseObject({
  id,
  enabled: z.boolean().nullable().optional(),
  value: z.string().max(4000).optional(),
  values: z.array(z.string().max(255)).max(500).optional(),
});

export const PurposeSchema = z.looseObject({
  id,
  enabled: z.boolean().nullable().optional(),
  enabled_li: z.boolean().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional().nullable(),
  values: z.record(z.string().max(255), PreferenceValueSchema).optional().nullable(),
  preferences: z.array(LegacyPreferenceSchema).max(500).optional().nullable(),
});

export const ConsentsSchema = z.looseObject({
  purposes: z.array(PurposeSchema).max(500).optional().nullable(),
  channels: z.array(z.unknown()).max(500).optional().nullable(),
  vendors: z.unknown().optional(),
  tcfcs: z.unknown().optional(),
});

const country = z.string().max(64).nullable().optional();

export const ConsentUserSchema = z.looseObject({
  id,
  organization_id: z.string().max(255).optional(),
  organization_user_id: z.string().max(255).nullable().optional(),
  organization_user_id_type: z.string().max(64).nullable().optional(),
  version: z.number().int().nonnegative().optional(),
  created_at: isoDate.optional(),
  updated_at: isoDate.optional(),
  metadata: z.record(z.string(), z.unknown()).optional().nullable(),
  country,
  last_seen_country: country,
  regulation: z.string().max(40).optional(),
  consents: ConsentsSchema.optional().nullable(),
});

export const ConsentEventSchema = z.looseObject({
  id,
  organization_id: z.string().max(255).optional(),
  created_at: isoDate,
  updated_at: isoDate.optional(),
  status: z.string().max(64).optional(),
  regulation: z.string().max(40).optional(),
  user: z.looseObject({
    id: id.optional(),
    organization_user_id: z.string().max(255).nullable().optional(),
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

/** Validates a webhook body; throws WebhookValidationError naming each problem. */
export function parseWebhook(body: unknown): DidomiWebhook {
  const unstorable = storableProblem(body);
  if (unstorable) throw new WebhookValidationError([unstorable]);
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
