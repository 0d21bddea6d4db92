// The store contract. Two engines implement it (sqlite.ts on node:sqlite, postgres.ts on pg) and
// both pass test/store.contract.ts. The store knows nothing of Didomi or Salesforce semantics:
// consent state and written-field caches are opaque JSON owned by the sync engine.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const DIDOMI_EVENT_TYPES = ['event.created', 'event.updated', 'event.deleted', 'user.created', 'user.updated', 'user.deleted'] as const;
export type DidomiEventType = (typeof DIDOMI_EVENT_TYPES)[number];

/** A validated webhook, as the accept path hands it to the store. */
export interface NewEvent {
  /** Identical redeliveries map to the same key; the store keeps the first and acknowledges the rest. */
  dedupeKey: string;
  /** organization_user_id (Didomi's user id when the organization gave none): the unit of ordering and claims. */
  userKey: string;
  type: DidomiEventType;
  /** Didomi's own timestamp for the change (ISO 8601): what "newest wins" compares, never arrival order. */
  occurredAt: string;
  /** The validated webhook body, kept whole. */
  payload: Json;
}

export interface StoredEvent extends NewEvent {
  /** Store-assigned, strictly increasing in commit order. */
  seq: number;
  receivedAt: string;
}

export interface AppendResult {
  /** Events newly stored, in input order: true = stored now, false = already known (duplicate). */
  stored: boolean[];
}

/** One user handed to one worker under a lease: nobody else processes this user until released or expired. */
export interface ClaimedUser {
  userKey: string;
  /** Merged consent state saved by the last completed run (opaque to the store). */
  state: Json | null;
  /** What was last written to Salesforce for this user (opaque to the store), for changed-fields-only writes. */
  written: Json | null;
  /** Failed attempts since the last success (0 when healthy). */
  attempts: number;
  firstFailedAt: string | null;
  /** Events not yet folded into `state`, ordered by seq. */
  events: StoredEvent[];
}

export interface ClaimOptions {
  workerId: string;
  maxUsers: number;
  /** Cap on events loaded per user; the rest stay pending for the next claim. */
  maxEventsPerUser: number;
  leaseMs: number;
}

export interface CompletedUser {
  userKey: string;
  /** Highest seq folded into `state`; events up to it are done. */
  doneSeq: number;
  state: Json;
  written: Json;
}

export interface FailedUser {
  userKey: string;
  nextAttemptAt: Date;
  error: string;
  /** Events up to this seq may be folded into the saved state even though the write failed (optional). */
  doneSeq?: number;
  state?: Json;
}

export interface DeadLetter {
  key: string;
  userKey: string;
  payload: Json; // everything the org record needs (object, record id, code, message, attempts, values)
}

export interface ReversePosition {
  replayId: string | null;
  commitAt: number;
}

export interface StoreStats {
  pendingUsers: number;
  pendingEvents: number;
  /** receivedAt of the oldest event not yet done, or null. */
  oldestPendingAt: string | null;
  deadLettersUnsynced: number;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  /** Applies versioned migrations; safe to call from several replicas at once. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Durably stores events (fsync'd WAL / committed transaction) before resolving. Throws StoreUnavailableError when it cannot. */
  append(events: NewEvent[]): Promise<AppendResult>;

  /** Leases up to maxUsers users that have pending events due now and no live lease (FOR UPDATE SKIP LOCKED on PostgreSQL). */
  claim(options: ClaimOptions): Promise<ClaimedUser[]>;
  /** Keeps leases alive during a long batch. Returns the keys still held. */
  extendLeases(workerId: string, userKeys: string[], leaseMs: number): Promise<string[]>;
  /** Saves the outcome and releases the lease; ignores users whose lease this worker no longer holds. Returns the keys saved. */
  complete(workerId: string, users: CompletedUser[]): Promise<string[]>;
  /** Schedules another attempt (attempts + 1) and releases the lease. */
  fail(workerId: string, users: FailedUser[]): Promise<void>;
  /** Gives back every lease this worker holds, untouched (graceful shutdown). */
  release(workerId: string): Promise<void>;
  /** Makes users due now and forgets their written cache so the next run writes every field (retry requested from the org). */
  requeue(userKeys: string[]): Promise<void>;

  /** Dead letters waiting to be pushed into the org as Didomi_Sync_Error__c (upsert by key). */
  addDeadLetters(letters: DeadLetter[]): Promise<void>;
  unsyncedDeadLetters(limit: number): Promise<DeadLetter[]>;
  markDeadLettersSynced(keys: string[]): Promise<void>;

  stats(): Promise<StoreStats>;

  /** Takes or renews the lease on a Salesforce -> Didomi stream (one subscriber among replicas); false when another holder's lease is live. */
  holdReverseLease(stream: string, holder: string, leaseMs: number, now: number): Promise<boolean>;
  /** Gives the lease up (graceful stop), so another replica takes over at once. */
  releaseReverseLease(stream: string, holder: string): Promise<void>;
  /** The last processed position of a stream: an opaque replay id (base64) and the commit time it carries (ms). */
  reversePosition(stream: string): Promise<ReversePosition | null>;
  /** Saves the position if `holder` still holds the lease; false when it lost it (another replica took over). */
  saveReversePosition(stream: string, holder: string, position: ReversePosition): Promise<boolean>;

  /**
   * Deletes inbox events received before `receivedBefore` that are folded into a healthy user's state
   * (seq <= done_seq, no failure pending), at most `limit` per call; returns how many. Dead letters are
   * never pruned: they stay until resolved in the org.
   */
  prune(receivedBefore: Date, limit: number): Promise<number>;
}

/** The store cannot accept writes (disk full, read-only, database down): the webhook answers 503. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
