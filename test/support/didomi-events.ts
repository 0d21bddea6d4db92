// Real-shaped Didomi webhooks (reference/didomi.md: `{type, parameters}`; consent events and users).
import { randomUUID } from 'node:crypto';
import { PURPOSE, PREFERENCE } from './org-fixture.ts';

export interface Choice {
  purposes?: Record<string, boolean | null>;
  /** preference id -> selected value ids (under PURPOSE unless purpose given as "purpose/pref") */
  preferences?: Record<string, string[]>;
}

function consents(c: Choice) {
  const purposes = new Map<string, any>();
  for (const [id, enabled] of Object.entries(c.purposes ?? {})) purposes.set(id, { id, enabled, enabled_li: null, metadata: {} });
  for (const [key, values] of Object.entries(c.preferences ?? {})) {
    const [purposeId, prefId] = key.includes('/') ? key.split('/') : [PURPOSE, key];
    const p = purposes.get(purposeId) ?? { id: purposeId, enabled: null };
    p.values = { ...(p.values ?? {}), [prefId]: { value: values.join(',') } };
    purposes.set(purposeId, p);
  }
  return { purposes: [...purposes.values()], channels: [], vendors: { enabled: [], disabled: [], enabled_li: [], disabled_li: [] } };
}

export interface EventOptions {
  regulation?: string;
  id?: string;
  country?: string;
  /** Didomi's double opt-in: `pending_approval` until the person confirms (reference/didomi.md). */
  status?: 'confirmed' | 'pending_approval';
  /** The event's own update time (a confirmed or corrected version of the event). */
  updatedAt?: Date;
  /** null: a Didomi user the customer never identified (no organization_user_id). */
  organizationUserId?: string | null;
}

function eventEntity(orgUserId: string, at: Date, c: Choice, o: EventOptions) {
  const organizationUserId = o.organizationUserId === undefined ? orgUserId : o.organizationUserId;
  return {
    id: o.id ?? randomUUID(),
    organization_id: 'acme-corp',
    created_at: at.toISOString(),
    ...(o.updatedAt ? { updated_at: o.updatedAt.toISOString() } : {}),
    status: o.status ?? 'confirmed',
    regulation: o.regulation ?? 'gdpr',
    user: { id: `didomi-${orgUserId}`, organization_user_id: organizationUserId, metadata: {}, country: o.country ?? 'FR' },
    consents: consents(c),
    proofs_id: [],
    delegate: null,
  };
}

export function eventCreated(orgUserId: string, at: Date, c: Choice, o: EventOptions = {}) {
  return { type: 'event.created', parameters: { entity: eventEntity(orgUserId, at, c, o) } };
}

/** A new version of an event (same id and created_at): e.g. confirmed after a double opt-in, or corrected. */
export function eventUpdated(orgUserId: string, createdAt: Date, c: Choice, o: EventOptions & { id: string; old?: Choice }) {
  const entity = eventEntity(orgUserId, createdAt, c, o);
  const old = eventEntity(orgUserId, createdAt, o.old ?? c, { ...o, status: 'pending_approval', updatedAt: undefined });
  return { type: 'event.updated', parameters: { source: { type: 'event', id: o.id }, old_entity: old, new_entity: entity } };
}

export function userUpdated(orgUserId: string, at: Date, c: Choice, version = 1) {
  const user = {
    id: `didomi-${orgUserId}`,
    organization_id: 'acme-corp',
    organization_user_id: orgUserId,
    organization_user_id_type: 'email',
    version,
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: at.toISOString(),
    metadata: {},
    country: 'FR',
    consents: consents(c),
  };
  return { type: 'user.updated', parameters: { source: { type: 'event', id: randomUUID() }, old_entity: { ...user, version: version - 1 }, new_entity: user } };
}

export function userDeleted(orgUserId: string, at: Date) {
  return {
    type: 'user.deleted',
    parameters: {
      entity: {
        id: `didomi-${orgUserId}`,
        organization_id: 'acme-corp',
        organization_user_id: orgUserId,
        version: 9,
        created_at: '2025-01-01T00:00:00.000Z',
        updated_at: at.toISOString(),
        consents: { purposes: [] },
      },
    },
  };
}

export { PURPOSE, PREFERENCE };
