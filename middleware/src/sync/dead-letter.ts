// The one place a dead letter (a Didomi_Sync_Error__c record, upserted by Dead_Letter_Key__c) is built.
import { createHash } from 'node:crypto';
import { SYNC_ERROR } from '../salesforce/api-names.ts';
import type { DeadLetter, Json } from '../store/types.ts';
import type { FieldValues } from './project.ts';
import { sobjectOf, type RecordOp } from './work.ts';

export interface DeadLetterInput {
  /** What makes two failures the same letter (hashed into Dead_Letter_Key__c): a repeat updates it. */
  identity: string;
  userKey: string;
  targetObject: string;
  recordId: string | null;
  code: string;
  message: string;
  attempts: number;
  firstFailedAt: string;
  now: string;
  /** What was refused (JSON, for the admin). */
  payload: unknown;
  /** Person-related fields; left out of the record when undefined (a mapping problem has no person). */
  organizationUserId?: string;
  didomiUserId?: string | null;
  eventId?: string | null;
}

export function buildDeadLetter(i: DeadLetterInput): DeadLetter {
  const F = SYNC_ERROR.fields;
  const key = createHash('sha256').update(i.identity).digest('hex').slice(0, 40);
  const person =
    i.organizationUserId === undefined
      ? {}
      : { [F.organizationUserId]: i.organizationUserId.slice(0, 255), [F.didomiUserId]: i.didomiUserId ?? null, [F.eventId]: i.eventId ?? null };
  return {
    key,
    userKey: i.userKey,
    payload: {
      [F.key]: key,
      ...person,
      [F.targetObject]: i.targetObject,
      [F.recordId]: i.recordId,
      [F.code]: i.code.slice(0, 255),
      [F.message]: i.message.slice(0, 32000),
      [F.attempts]: i.attempts,
      [F.status]: 'Open',
      [F.firstFailedAt]: i.firstFailedAt,
      [F.lastFailedAt]: i.now,
      [F.payload]: JSON.stringify(i.payload).slice(0, 131000),
    } as Json,
  };
}

type EntityParams = { parameters?: { entity?: { id?: unknown }; new_entity?: { id?: unknown } } } | null | undefined;

/** A permanent failure of one record operation (or of only some of its fields: `only`). */
export function recordDeadLetter(
  o: Pick<RecordOp, 'work' | 'target' | 'id' | 'fields' | 'sobject'>,
  code: string,
  message: string,
  now: string,
  only?: FieldValues,
): DeadLetter {
  const w = o.work;
  const didomiId = w.state.facts.didomiId?.v;
  const last = w.user.events[w.user.events.length - 1]?.payload as EntityParams;
  const eventId = last?.parameters?.entity?.id ?? last?.parameters?.new_entity?.id ?? null;
  return buildDeadLetter({
    identity: [w.user.userKey, sobjectOf(o), o.id ?? 'new', code, ...Object.keys(only ?? {})].join('|'),
    userKey: w.user.userKey,
    organizationUserId: w.user.userKey,
    didomiUserId: typeof didomiId === 'string' ? didomiId : null,
    eventId: typeof eventId === 'string' ? eventId.slice(0, 255) : null,
    targetObject: sobjectOf(o),
    recordId: o.id ?? null,
    code,
    message,
    attempts: w.user.attempts + 1,
    firstFailedAt: w.user.firstFailedAt ?? now,
    now,
    payload: only ?? o.fields,
  });
}

/** An invalid mapping, reported once per configuration. */
export function mappingDeadLetter(p: { mappingId: string; targetObject: string; field: string; message: string }, now: string): DeadLetter {
  return buildDeadLetter({
    identity: `mapping|${p.mappingId}|${p.message}`,
    userKey: `mapping:${p.mappingId}`,
    targetObject: p.targetObject,
    recordId: p.mappingId,
    code: 'INVALID_MAPPING',
    message: p.message,
    attempts: 1,
    firstFailedAt: now,
    now,
    payload: { field: p.field },
  });
}
