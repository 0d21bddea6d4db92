// One claimed user's work through a batch, and the record operations planned for it.
import { factsOf } from '../didomi/facts.ts';
import type { ClaimedUser, DeadLetter } from '../store/types.ts';
import { merge, type ConsentState } from './consent-state.ts';
import type { FieldValues } from './project.ts';
import type { Target } from './config-types.ts';

export type Written = Record<string, Record<string, unknown>>; // record id -> field -> value last written

export interface Work {
  user: ClaimedUser;
  state: ConsentState;
  doneSeq: number;
  written: Written;
  transient: string | null;
  /** A write may have reached Salesforce although we saw no answer (timeout, dropped connection). */
  unknownOutcome: boolean;
  dead: DeadLetter[];
}

export interface RecordOp {
  work: Work;
  target: Target;
  kind: 'update' | 'upsert' | 'delete';
  id?: string;
  fields: FieldValues;
  /** Fields Salesforce refused and this op was resent without (field-isolation.ts): remembered as written, so they are not repeated. */
  refused?: FieldValues;
  /** Fields resent with their no-consent value after a refusal: if refused again, they are left out. */
  fallback?: Set<string>;
  /** Consent data model (consent-model-sync.ts): the sObject written when not the target's, and the upsert's external id. */
  sobject?: string;
  externalId?: string;
}

/** The sObject an operation writes: the target's, unless the operation names another (consent data model). */
export const sobjectOf = (o: Pick<RecordOp, 'target' | 'sobject'>): string => o.sobject ?? o.target.object;

/** A claimed user with its events merged into its saved consent state. */
export function workOf(u: ClaimedUser): Work {
  return {
    user: u,
    state: merge(u.state as unknown as ConsentState | null, u.events.flatMap(factsOf)),
    doneSeq: u.events.reduce((m, e) => Math.max(m, e.seq), 0),
    written: (u.written as unknown as Written) ?? {},
    transient: null,
    unknownOutcome: false,
    dead: [],
  };
}
