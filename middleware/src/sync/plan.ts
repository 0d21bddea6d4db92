// The planner: (targets x users x matched records) -> record operations. Pure: no HTTP, no clock,
// no store; what it cannot plan it returns as failures for the engine to settle.
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import type { SObjectRow } from '../salesforce/client.ts';
import type { Target } from './config-types.ts';
import { creationSkipReason, writableRecords } from './match-rules.ts';
import { cleared, project, type FieldValues } from './project.ts';
import type { RecordOp, Work } from './work.ts';

/** Matched records per target object, then per lower-case user key (sync/match.ts). */
export type Matches = Map<string, Map<string, SObjectRow[]>>;

export interface PlannedFailure {
  work: Work;
  target: Target;
  id?: string;
  code: string;
  message: string;
  kind: 'transient' | 'permanent';
}

export interface Plan {
  ops: RecordOp[];
  failures: PlannedFailure[];
  /** Users upsert mode did not create a record for, and why (metrics). */
  skipped: { reason: 'no_organization_user_id'; object: string }[];
}

/**
 * An extension point: a step that adds record operations from what the core plan decided (e.g.
 * consent data model records). It sees the whole plan and returns extra operations.
 */
export type PlanStep = (input: { targets: Target[]; works: Work[]; matches: Matches; plan: Plan }) => RecordOp[];

export const AMBIGUOUS_MATCH = 'AMBIGUOUS_MATCH';

/** Decides, per user and target, which records to create, update or delete, with changed fields only. */
export function planBatch(targets: Target[], works: Work[], matches: Matches, steps: PlanStep[] = []): Plan {
  const plan: Plan = { ops: [], failures: [], skipped: [] };
  const claimedIds = new Set<string>();
  for (const w of works) {
    const key = w.user.userKey;
    for (const t of targets) {
      const matched = matches.get(t.object)?.get(key.toLowerCase()) ?? [];
      // One record, two Didomi users (the record's e-mail is one user's key, its Didomi_User_Id__c the
      // other's): the record keeps the user whose id it carries; the other is dead-lettered for it, in
      // every batch, so the record never flip-flops between two people's consents.
      const heldByOther = matched.filter((r) => heldBy(r) !== '' && heldBy(r) !== key.toLowerCase());
      for (const r of heldByOther)
        plan.failures.push({
          work: w,
          target: t,
          id: r.Id,
          code: AMBIGUOUS_MATCH,
          message: `${t.object} ${r.Id} matches this person by ${t.matchField} but carries another Didomi user's ${RECORD_FIELDS.userId}; it keeps that user's consent`,
          kind: 'permanent',
        });
      const own = matched.filter((r) => !heldByOther.includes(r));
      const records = writableRecords(t, own);
      const values = project(key, w.state, t);
      if (records.some((r) => claimedIds.has(r.Id))) {
        plan.failures.push({
          work: w,
          target: t,
          code: 'RECORD_SHARED',
          message: 'a record matches two users of this batch; retried in the next batch',
          kind: 'transient',
        });
        continue;
      }
      if (values === null) {
        // Deleted in Didomi: the target's deletion behaviour decides.
        for (const r of records) {
          if (t.deletionBehavior === 'Delete Record') plan.ops.push({ work: w, target: t, kind: 'delete', id: r.Id, fields: {} });
          else if (t.deletionBehavior === 'Clear Consent Fields') pushUpdate(plan.ops, w, t, r.Id, cleared(t));
          claimedIds.add(r.Id);
        }
        continue;
      }
      if (!records.length) {
        if (!t.upsertMode) continue;
        const skip = creationSkipReason(key, matched);
        if (skip === 'no_organization_user_id') plan.skipped.push({ reason: skip, object: t.object });
        if (skip) continue;
        plan.ops.push({ work: w, target: t, kind: 'upsert', fields: { ...creationFields(t, key), ...values } });
        continue;
      }
      const holder = records.find((r) => heldBy(r) === key.toLowerCase());
      const idOwner = holder ?? records[0];
      for (const r of records) {
        claimedIds.add(r.Id);
        const desired = { ...values };
        // Didomi_User_Id__c is a unique external id: only one of several matching records may hold it.
        if (r.Id !== idOwner.Id) delete desired[RECORD_FIELDS.userId];
        pushUpdate(plan.ops, w, t, r.Id, desired);
      }
    }
  }
  for (const step of steps) plan.ops.push(...step({ targets, works, matches, plan }));
  return plan;
}

const heldBy = (r: SObjectRow) => String(r[RECORD_FIELDS.userId] ?? '').toLowerCase();

/** Upsert mode: required fields from the target's defaults, and the match field when it can hold the key. */
function creationFields(t: Target, key: string): FieldValues {
  const fields: FieldValues = {};
  for (const [f, v] of Object.entries(t.creationDefaults))
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[f] = v as string | boolean | null;
  const mf = t.fields.get(t.matchField.toLowerCase());
  if (
    mf &&
    mf.createable &&
    t.matchField !== RECORD_FIELDS.userId &&
    (mf.type !== 'email' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(key)) &&
    key.length <= (mf.length || 255)
  )
    fields[mf.name] = key;
  return fields;
}

/** An update of only the fields whose value differs from what was last written to that record; none when nothing changed. */
function pushUpdate(ops: RecordOp[], w: Work, t: Target, id: string, desired: FieldValues) {
  const before = w.written[id] ?? {};
  const changed: FieldValues = {};
  for (const [f, v] of Object.entries(desired)) if (before[f] !== v) changed[f] = v;
  if (Object.keys(changed).length) ops.push({ work: w, target: t, kind: 'update', id, fields: changed });
}
