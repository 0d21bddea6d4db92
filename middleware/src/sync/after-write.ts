// An extension point for writes that need the outcome of the batch's record writes (e.g. the consent
// data model links records to an Individual it has just upserted, so it cannot be planned up front
// like a PlanStep). A step runs after the field writes, through the same write path (write.ts), so its
// records are retried, field-isolated and dead-lettered like any other.
import type { SyncConfig } from './config-types.ts';
import type { Matches } from './plan.ts';
import type { RecordOp, Work } from './work.ts';

export interface AfterWriteInput {
  config: SyncConfig;
  /** The batch's users; a step leaves alone those already marked transient (they are retried whole). */
  works: Work[];
  matches: Matches;
  /** Writes record operations with the batch's outcome handling (written / refused / dead letter). */
  write(ops: RecordOp[]): Promise<void>;
}

/** Returns how many record operations it sent (for the batch log). A throw fails the batch like a failed write. */
export type AfterWriteStep = (input: AfterWriteInput) => Promise<number>;
