// The embedded store: one SQLite file through node:sqlite, in WAL mode. A resolved append() is on
// disk (the WAL fdatasync'd) before the webhook answers 2xx. Appends arriving in the same tick share
// one transaction (group commit), which is what makes durable accepts fast; the sync runs in libuv's
// thread pool, so the event loop goes on parsing webhooks while the disk works.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { closeSync, fdatasync, fsync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  StoreUnavailableError,
  type AppendResult,
  type ClaimOptions,
  type ClaimedUser,
  type CompletedUser,
  type DeadLetter,
  type FailedUser,
  type Json,
  type NewEvent,
  type Store,
  type StoreStats,
  type ReversePosition,
  type StoredEvent,
} from './types.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';

interface Pending {
  events: NewEvent[];
  resolve: (r: AppendResult) => void;
  reject: (e: Error) => void;
}

/** fdatasync(2) of a file in libuv's thread pool (what SQLite's unix VFS calls to sync the WAL on Linux). */
export const syncWalFile = (fd: number) => new Promise<void>((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())));

/** WAL size at which SQLite checkpoints (see the constructor). */
export const WAL_CHECKPOINT_BYTES = 32 * 1024 * 1024;
/** Users a claim reads the events of, or a completion saves, between two yields to the event loop. */
const CLAIM_SLICE = 100;

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private readonly now: () => number;
  private st!: Record<string, StatementSync>;
  private closed = false;
  // Syncing the WAL ourselves (see durable()).
  private readonly walPath: string | null;
  private walFd: number | null = null;
  private readonly syncWal: (fd: number) => Promise<void>;
  private syncing = false;
  private syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private broken: StoreUnavailableError | null = null;

  /** `syncWal` replaces the fdatasync of the -wal file (tests hold or fail it). */
  constructor(path: string, opts: { now?: () => number; syncWal?: (fd: number) => Promise<void> } = {}) {
    this.now = opts.now ?? Date.now;
    this.syncWal = opts.syncWal ?? syncWalFile;
    this.walPath = path === ':memory:' ? null : path + '-wal';
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    // Exclusive locking before WAL is first used keeps the WAL index in heap memory instead of a
    // memory-mapped -shm file: on a full disk (tmpfs) a write to that mapping kills the process with
    // SIGBUS (found by the reliability suite's "disk" scenario). One process owns the file anyway;
    // several replicas use PostgreSQL.
    //
    // 2 KiB pages (taken only by a new file; WAL fixes an existing file's size): each accepted event
    // dirties a few B-tree pages at random places (the de-duplication and per-user indexes, user_sync),
    // and every dirty page goes whole through the WAL, its checksum, the fsync and the checkpoint. Half
    // the page, about a third less system CPU per appended event than 4 KiB (issue 17); 1 KiB cost more
    // user CPU than it saved.
    //
    // The checkpoint runs at ~32 MB of WAL whatever the page size. It runs inside the COMMIT that crosses
    // the threshold, on the event loop (copying pages into the database file and syncing both files); the
    // sync's leases and completions dirty a page per few users, so at 4 MB it ran every few batches and
    // held the loop up to 40-58 ms (flush p99 40 ms, against 10 ms at 32 MB; 30 % less time in flush over
    // the benchmark's max phase, issue 17). A hot page written many times between checkpoints is copied once.
    //
    // synchronous=NORMAL: a COMMIT writes its frames to the WAL without syncing it (checkpoints still
    // sync the WAL, then the database file). The store syncs the WAL after each commit itself, off the
    // event loop, before resolving (durable()): the same guarantee as FULL, which syncs the WAL at
    // every COMMIT on the calling thread (https://www.sqlite.org/pragma.html#pragma_synchronous).
    this.db.exec(
      'PRAGMA page_size = 2048; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;',
    );
    const { page_size: pageSize } = this.db.prepare('PRAGMA page_size').get() as { page_size: number };
    this.db.exec(`PRAGMA wal_autocheckpoint = ${Math.round(WAL_CHECKPOINT_BYTES / pageSize)}`);
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    for (const [i, sql] of SQLITE_MIGRATIONS.entries()) {
      const version = i + 1;
      if (done.has(version)) continue;
      this.db.exec('BEGIN IMMEDIATE');
      try {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
        this.db.exec('COMMIT');
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      }
    }
    this.prepare();
    await this.durable();
  }

  private prepare() {
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      insertEvent: p(
        'INSERT INTO inbox (dedupe_key, user_key, type, occurred_at, received_at, payload) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq',
      ),
      touchUser: p(`INSERT INTO user_sync (user_key, pending_seq, next_attempt_at) VALUES (?, ?, ?)
        ON CONFLICT (user_key) DO UPDATE SET pending_seq = max(pending_seq, excluded.pending_seq),
          next_attempt_at = CASE WHEN attempts = 0 THEN min(next_attempt_at, excluded.next_attempt_at) ELSE next_attempt_at END`),
      // Prepared once: exec() would compile them again for every append of every group commit.
      savepointAppend: p('SAVEPOINT append'),
      releaseAppend: p('RELEASE append'),
      rollbackToAppend: p('ROLLBACK TO append'),
      due: p(`SELECT user_key, state, written, attempts, first_failed_at, done_seq, lease_owner FROM user_sync
        WHERE (pending_seq > done_seq OR forced = 1) AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at LIMIT ?`),
      // The users as one JSON array bound once: a statement per user cost more in calls than in SQL.
      lease: p('UPDATE user_sync SET lease_owner = ?, lease_until = ? WHERE user_key IN (SELECT value FROM json_each(?))'),
      // Each user's first events after its done_seq, for a JSON array of [user_key, done_seq] pairs; the
      // ROW_NUMBER cap is the per-user LIMIT (maxEventsPerUser) the one query cannot express otherwise.
      userEvents: p(`SELECT seq, dedupe_key, user_key, type, occurred_at, received_at, payload FROM (
          SELECT i.*, row_number() OVER (PARTITION BY i.user_key ORDER BY i.seq) AS n
          FROM json_each(?) AS u JOIN inbox i ON i.user_key = u.value ->> 0 AND i.seq > u.value ->> 1)
        WHERE n <= ? ORDER BY user_key, seq`),
      extend: p('UPDATE user_sync SET lease_until = ? WHERE user_key = ? AND lease_owner = ?'),
      complete: p(`UPDATE user_sync SET state = ?, written = ?, done_seq = max(done_seq, ?), forced = 0, attempts = 0, first_failed_at = NULL,
        last_error = NULL, next_attempt_at = 0, lease_owner = NULL, lease_until = 0 WHERE user_key = ? AND lease_owner = ?`),
      // A failed run may have written some records: forget the written cache so the next run writes every field.
      fail: p(`UPDATE user_sync SET attempts = attempts + 1, first_failed_at = coalesce(first_failed_at, ?), next_attempt_at = ?, last_error = ?,
        written = NULL, lease_owner = NULL, lease_until = 0 WHERE user_key = ? AND lease_owner = ?`),
      failFold: p(`UPDATE user_sync SET state = ?, done_seq = max(done_seq, ?) WHERE user_key = ? AND lease_owner = ?`),
      release: p('UPDATE user_sync SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?'),
      requeue: p('UPDATE user_sync SET forced = 1, written = NULL, next_attempt_at = 0, attempts = 0 WHERE user_key = ?'),
      requeueInsert: p('INSERT INTO user_sync (user_key, forced) VALUES (?, 1) ON CONFLICT (user_key) DO NOTHING'),
      addDead: p(`INSERT INTO dead_letters (key, user_key, payload, synced, created_at) VALUES (?, ?, ?, 0, ?)
        ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, synced = 0`),
      unsynced: p('SELECT key, user_key, payload FROM dead_letters WHERE synced = 0 ORDER BY created_at LIMIT ?'),
      markSynced: p('UPDATE dead_letters SET synced = 1 WHERE key = ?'),
      holdReverse: p(`INSERT INTO reverse_position (stream, holder, lease_until) VALUES (?, ?, ?) ON CONFLICT (stream) DO UPDATE
        SET holder = excluded.holder, lease_until = excluded.lease_until WHERE reverse_position.holder = excluded.holder OR reverse_position.lease_until < ?
        RETURNING holder`),
      releaseReverse: p('UPDATE reverse_position SET holder = NULL, lease_until = 0 WHERE stream = ? AND holder = ?'),
      reversePosition: p('SELECT replay_id, commit_at FROM reverse_position WHERE stream = ?'),
      saveReverse: p('UPDATE reverse_position SET replay_id = ?, commit_at = ? WHERE stream = ? AND holder = ?'),
      statsUsers: p('SELECT count(*) AS n FROM user_sync WHERE pending_seq > done_seq OR forced = 1'),
      statsEvents: p(`SELECT count(*) AS n, min(i.received_at) AS oldest FROM user_sync u JOIN inbox i ON i.user_key = u.user_key AND i.seq > u.done_seq
        WHERE u.pending_seq > u.done_seq`),
      statsDead: p('SELECT count(*) AS n FROM dead_letters WHERE synced = 0'),
      prune: p(`DELETE FROM inbox WHERE seq IN (SELECT i.seq FROM inbox i JOIN user_sync u ON u.user_key = i.user_key
        WHERE i.received_at < ? AND i.seq <= u.done_seq AND u.attempts = 0 ORDER BY i.received_at LIMIT ?)`),
    };
  }

  async ping(): Promise<void> {
    if (this.broken) throw this.broken;
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    // what the last commits' callers wait for; a failed sync leaves them rejected
    await this.durable().catch(() => {});
    if (this.walFd !== null) closeSync(this.walFd);
    this.db.close();
  }

  /**
   * Resolves once everything committed so far is on disk: the next sync of the -wal file that starts
   * after this call has succeeded. One sync runs at a time, for every commit made before it started
   * (the WAL is a log: syncing it covers all frames written to it). In a WAL in exclusive locking mode
   * the -wal file is opened once and kept (never deleted while the connection is open, reused from its
   * start after a checkpoint), so one descriptor serves; its first sync also syncs the directory that
   * holds its name, as SQLite does for a new journal.
   *
   * A failed sync breaks the store for good: Linux may drop the dirty pages it could not write and
   * report the next sync clean, so no later commit could be trusted to be on disk ("fsyncgate";
   * PostgreSQL stops too). Every write (and ping) then throws StoreUnavailableError (503 for webhooks, so
   * Didomi retries; /readyz reports it) until the process is restarted and SQLite recovers the file.
   */
  private durable(): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.walPath === null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.syncWaiters.push({ resolve, reject });
      this.startSync();
    });
  }

  private startSync() {
    if (this.syncing || !this.syncWaiters.length) return;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    let first = false;
    try {
      if (this.walFd === null) {
        this.walFd = openSync(this.walPath!, 'r');
        first = true;
      }
    } catch (e) {
      // No -wal file yet: nothing was ever written to the WAL, so there is nothing to sync.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return waiters.forEach((w) => w.resolve());
      return this.breakStore(e as Error, waiters);
    }
    this.syncing = true;
    const synced = first ? this.syncWal(this.walFd).then(() => syncDirectory(dirname(this.walPath!))) : this.syncWal(this.walFd);
    synced.then(
      () => {
        this.syncing = false;
        for (const w of waiters) w.resolve();
        this.scheduleFlush(); // the appends that arrived during the sync, as one group
        this.startSync();
      },
      (e: Error) => {
        this.syncing = false;
        this.breakStore(e, waiters);
      },
    );
  }

  private breakStore(e: Error, waiters: { reject: (e: Error) => void }[]) {
    this.broken ??= new StoreUnavailableError(
      `the SQLite write-ahead log could not be synced to disk (${e.message}); writes since the last good sync may be lost, so the store refuses every write until the service is restarted`,
    );
    for (const w of [...waiters, ...this.syncWaiters.splice(0), ...this.queue.splice(0)]) w.reject(this.broken);
  }

  append(events: NewEvent[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Appends wait while a sync is in flight and are committed together once it ends: a commit rewrites
   * every page it dirties into the WAL, and the same index pages are hot in every group, so one commit
   * per sync writes (and syncs) far less than one per tick. Measured side by side (npm run bench, max
   * phase): committing every tick while the sync ran was slower than syncing at COMMIT (0.38-0.39 of bare
   * Express against 0.43-0.44); committing once per sync is level with it (0.40-0.41 against 0.41-0.44).
   */
  private scheduleFlush() {
    if (this.flushScheduled || this.syncing || !this.queue.length) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Writes every queued append in one transaction (group commit). One connection, one writer:
   * seqs are allocated and committed in the same order, so no event can commit below a done_seq
   * (the PostgreSQL store needs a per-user lock for that; issue 11, item 1).
   *
   * The appends resolve once the commit is synced (durable()). The sync used to be the COMMIT's own
   * (synchronous=FULL), blocking the event loop: a third of the service's busy samples at full speed
   * (CPU profile, issue 17); off the loop, the same workload took 30 % fewer. Accepted/s did not move
   * beyond the noise on a disk that fdatasyncs in 0.15 ms (npm run bench, side by side); on slower
   * disks the loop gains more. The test that the -wal file keeps its inode across checkpoints is in
   * store.sqlite.test.ts.
   */
  private flush() {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    if (this.broken) return batch.forEach((p) => p.reject(this.broken!));
    const receivedAt = new Date(this.now()).toISOString();
    const nowMs = this.now();
    const results: (AppendResult | Error)[] = [];
    // One append's failure (unserialisable payload, a refused row) fails that append alone: each
    // runs in its own savepoint, so the others sharing the group commit still commit.
    const texts = batch.map((p) => {
      try {
        return p.events.map((e) => JSON.stringify(e.payload));
      } catch (e) {
        return e as Error;
      }
    });
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const [i, p] of batch.entries()) {
        const payloads = texts[i];
        if (payloads instanceof Error) {
          results.push(payloads);
          continue;
        }
        this.st.savepointAppend.run();
        try {
          const stored: boolean[] = [];
          for (const [j, e] of p.events.entries()) {
            const row = this.st.insertEvent.get(e.dedupeKey, e.userKey, e.type, e.occurredAt, receivedAt, payloads[j]) as { seq: number } | undefined;
            stored.push(!!row);
            if (row) this.st.touchUser.run(e.userKey, row.seq, nowMs);
          }
          this.st.releaseAppend.run();
          results.push({ stored });
        } catch (e) {
          this.st.rollbackToAppend.run(); // throws when SQLite ended the transaction itself: then all fail below
          this.st.releaseAppend.run();
          results.push(new StoreUnavailableError(`cannot store events: ${(e as Error).message}`));
        }
      }
      this.db.exec('COMMIT');
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* the failed statement may have ended the transaction already */
      }
      const err = new StoreUnavailableError(`cannot store events: ${(e as Error).message}`);
      for (const p of batch) p.reject(err);
      return;
    }
    const settle = (synced: Error | null) =>
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else if (synced) p.reject(synced);
        else p.resolve(r);
      });
    this.durable().then(
      () => settle(null),
      (e: Error) => settle(e),
    );
  }

  private tx<T>(fn: () => T): T {
    if (this.broken) throw this.broken;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* SQLite already rolled back (disk full, I/O error): keep the original error */
      }
      throw e;
    }
  }

  // What the sync records of its own work (leases, completions, failures, dead letters, pruning) resolves
  // at COMMIT, without waiting for the sync: a power loss takes only a suffix of the WAL (one log, so
  // a later synced commit covers every earlier one), and work whose record is lost is done again, as
  // after a crash (at least once; writes to Salesforce are idempotent). What others were told of waits
  // for the sync: appends (the 202 to Didomi), requeues (the admin's request), the reverse stream's
  // position (refusals already sent to Didomi, which must not go twice).
  //
  // A claim leases its users in one short transaction, then reads their events a slice at a time, yielding
  // to the event loop between slices: as one transaction, a claim of 1,000 users held the loop for 100-180 ms
  // (webhooks waited for it, issue 17). Reading after the lease is safe: a leased user's done_seq and state
  // change only through its holder (complete, fail), pruning takes only events at or below done_seq, and an
  // event appended meanwhile is simply read now instead of at the next claim. A read that fails leaves the
  // leases to expire, like a worker that died: releasing them would also clear the mark that makes the next
  // claim distrust the written cache of a user whose earlier holder died mid-batch.
  async claim(o: ClaimOptions): Promise<ClaimedUser[]> {
    const now = this.now();
    const rows = this.tx(() => {
      const due = this.st.due.all(now, now, o.maxUsers) as unknown as UserRow[];
      if (due.length) this.st.lease.run(o.workerId, now + o.leaseMs, JSON.stringify(due.map((u) => u.user_key)));
      return due;
    });
    const out: ClaimedUser[] = [];
    for (let i = 0; i < rows.length; i += CLAIM_SLICE) {
      if (i > 0) await nextTurn();
      const slice = rows.slice(i, i + CLAIM_SLICE);
      const events = new Map<string, StoredEvent[]>(slice.map((u) => [u.user_key, []]));
      const read = this.st.userEvents.all(JSON.stringify(slice.map((u) => [u.user_key, u.done_seq])), o.maxEventsPerUser) as unknown as EventRow[];
      for (const r of read) events.get(r.user_key)!.push(toEvent(r));
      for (const u of slice) {
        // An expired lease means a worker died mid-batch, maybe after writing: its written cache cannot be trusted.
        const written = u.lease_owner !== null ? null : parse(u.written);
        out.push({
          userKey: u.user_key,
          state: parse(u.state),
          written,
          attempts: u.attempts,
          firstFailedAt: u.first_failed_at,
          events: events.get(u.user_key)!,
        });
      }
    }
    return out;
  }

  async extendLeases(workerId: string, userKeys: string[], leaseMs: number): Promise<string[]> {
    const until = this.now() + leaseMs;
    return this.tx(() => userKeys.filter((k) => Number(this.st.extend.run(until, k, workerId).changes) > 0));
  }

  /** A transaction per slice of users, yielding between them like claim(): each user's completion stands alone. */
  async complete(workerId: string, users: CompletedUser[]): Promise<string[]> {
    const saved: string[] = [];
    for (let i = 0; i === 0 || i < users.length; i += CLAIM_SLICE) {
      if (i > 0) await nextTurn();
      const slice = users.slice(i, i + CLAIM_SLICE);
      this.tx(() => {
        for (const u of slice)
          if (Number(this.st.complete.run(JSON.stringify(u.state), JSON.stringify(u.written), u.doneSeq, u.userKey, workerId).changes) > 0)
            saved.push(u.userKey);
      });
    }
    return saved;
  }

  async fail(workerId: string, users: FailedUser[]): Promise<void> {
    const now = new Date(this.now()).toISOString();
    this.tx(() => {
      for (const u of users) {
        if (u.state !== undefined && u.doneSeq !== undefined) this.st.failFold.run(JSON.stringify(u.state), u.doneSeq, u.userKey, workerId);
        this.st.fail.run(now, u.nextAttemptAt.getTime(), u.error.slice(0, 2000), u.userKey, workerId);
      }
    });
  }

  async release(workerId: string): Promise<void> {
    if (this.broken) throw this.broken;
    this.st.release.run(workerId);
  }

  async requeue(userKeys: string[]): Promise<void> {
    this.tx(() => {
      for (const k of userKeys) {
        this.st.requeueInsert.run(k);
        this.st.requeue.run(k);
      }
    });
    await this.durable();
  }

  async addDeadLetters(letters: DeadLetter[]): Promise<void> {
    const now = new Date(this.now()).toISOString();
    this.tx(() => {
      for (const l of letters) this.st.addDead.run(l.key, l.userKey, JSON.stringify(l.payload), now);
    });
  }

  async unsyncedDeadLetters(limit: number): Promise<DeadLetter[]> {
    return (this.st.unsynced.all(limit) as { key: string; user_key: string; payload: string }[]).map((r) => ({
      key: r.key,
      userKey: r.user_key,
      payload: JSON.parse(r.payload),
    }));
  }

  async markDeadLettersSynced(keys: string[]): Promise<void> {
    this.tx(() => {
      for (const k of keys) this.st.markSynced.run(k);
    });
  }

  async holdReverseLease(stream: string, holder: string, leaseMs: number, now: number): Promise<boolean> {
    if (this.broken) throw this.broken;
    return !!this.st.holdReverse.get(stream, holder, now + leaseMs, now);
  }

  async releaseReverseLease(stream: string, holder: string): Promise<void> {
    if (this.broken) throw this.broken;
    this.st.releaseReverse.run(stream, holder);
  }

  async reversePosition(stream: string): Promise<ReversePosition | null> {
    const r = this.st.reversePosition.get(stream) as { replay_id: string | null; commit_at: number } | undefined;
    return r ? { replayId: r.replay_id, commitAt: Number(r.commit_at) } : null;
  }

  async saveReversePosition(stream: string, holder: string, position: ReversePosition): Promise<boolean> {
    if (this.broken) throw this.broken;
    const saved = Number(this.st.saveReverse.run(position.replayId, position.commitAt, stream, holder).changes) > 0;
    await this.durable();
    return saved;
  }

  async stats(): Promise<StoreStats> {
    const users = this.st.statsUsers.get() as { n: number };
    const ev = this.st.statsEvents.get() as { n: number; oldest: string | null };
    const dead = this.st.statsDead.get() as { n: number };
    return { pendingUsers: users.n, pendingEvents: ev.n, oldestPendingAt: ev.oldest, deadLettersUnsynced: dead.n };
  }

  async prune(receivedBefore: Date, limit: number): Promise<number> {
    return this.tx(() => Number(this.st.prune.run(receivedBefore.toISOString(), limit).changes));
  }
}

/** fsync(2) of a directory, so a file just created in it keeps its name after a power loss. */
function syncDirectory(dir: string): Promise<void> {
  return new Promise((res, rej) => {
    let fd: number;
    try {
      fd = openSync(dir, 'r');
    } catch (e) {
      return rej(e as Error);
    }
    fsync(fd, (e) => {
      closeSync(fd);
      if (e) rej(e);
      else res();
    });
  });
}

const parse = (s: string | null): Json | null => (s === null ? null : JSON.parse(s));

interface UserRow {
  user_key: string;
  state: string | null;
  written: string | null;
  attempts: number;
  first_failed_at: string | null;
  done_seq: number;
  lease_owner: string | null;
}

interface EventRow {
  seq: number | bigint;
  dedupe_key: string;
  user_key: string;
  type: StoredEvent['type'];
  occurred_at: string;
  received_at: string;
  payload: string;
}

function toEvent(r: EventRow): StoredEvent {
  return {
    seq: Number(r.seq),
    dedupeKey: r.dedupe_key,
    userKey: r.user_key,
    type: r.type,
    occurredAt: r.occurred_at,
    receivedAt: r.received_at,
    payload: JSON.parse(r.payload),
  };
}
