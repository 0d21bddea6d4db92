// PostgreSQL store: several replicas share one queue. Users are claimed with FOR UPDATE SKIP
// LOCKED and leased (lease_owner, lease_until), so one user's events are never processed by two
// workers at once, and a dead worker's users come back when its lease expires.
import pg from 'pg';
import {
  StoreUnavailableError,
  type AppendResult,
  type ClaimOptions,
  type ClaimedUser,
  type CompletedUser,
  type DeadLetter,
  type FailedUser,
  type NewEvent,
  type Store,
  type StoreStats,
  type ReversePosition,
  type StoredEvent,
} from './types.ts';
import { POSTGRES_MIGRATIONS } from './migrations.ts';
import { isConnectionError } from './connection-errors.ts';

const MIGRATION_LOCK = 4_711_2026; // advisory lock: two replicas starting together migrate once
/** A group commit stops adding appends past this many events (a backfill chunk may exceed it alone). */
const MAX_GROUP_EVENTS = 1000;

interface Pending {
  events: NewEvent[];
  resolve: (r: AppendResult) => void;
  reject: (e: Error) => void;
}
/** An event and its payload serialised once. */
interface Row {
  e: NewEvent;
  payload: string;
}

export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly now: () => number;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private flushing = 0;
  /** Group commits in flight at once: more groups while one waits on its commit's fsync, fewer connections than the pool. */
  private readonly maxFlushes: number;
  private closed = false;
  /** Group commits, the appends they carried, and groups retried one append at a time after a failure (benchmark and tests). */
  readonly groupCommits = { groups: 0, appends: 0, split: 0 };

  constructor(url: string, opts: { now?: () => number; schema?: string; max?: number; maxFlushes?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.maxFlushes = opts.maxFlushes ?? Math.max(1, Math.floor((opts.max ?? 10) / 3));
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
      // a database that is away fails fast (webhooks answer 503, /readyz says so) instead of hanging
      connectionTimeoutMillis: 5000,
    });
    this.pool.on('error', () => undefined); // idle client errors surface on the next query instead of crashing
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    // pg-pool removes its error listener while a client is checked out: a connection lost between two
    // queries (server killed, 57P01 admin shutdown) would otherwise be an uncaught 'error' that kills
    // the process (issue 11, item 2). The failed query rejects and the client is discarded below.
    let broken: Error | undefined;
    const onError = (e: Error) => {
      broken = e;
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      broken ??= isConnectionError(e) ? (e as Error) : undefined;
      if (!broken) await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.removeListener('error', onError);
      c.release(broken); // a broken connection is destroyed, not returned to the pool
    }
  }

  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      const done = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
        if (done.has(i + 1)) continue;
        await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [i + 1, new Date().toISOString()]);
      }
    });
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // appends already accepted are written (or refused) before the pool goes
    while (this.queue.length || this.flushing || this.flushScheduled) await new Promise((r) => setTimeout(r, 1));
    await this.pool.end().catch(() => undefined);
  }

  /**
   * Group commit: appends queue up while earlier flushes are in flight, and each flush writes every
   * queued append in one statement (after one that creates missing user rows), whatever its size, so
   * durable appends scale with load instead of costing a transaction of several round trips each (issue 17).
   */
  append(events: NewEvent[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.pump();
    });
  }

  /** Starts flushes while fewer than `maxFlushes` are in flight; the rest of the queue waits and grows the next group. */
  private pump(): void {
    if (this.flushScheduled || this.flushing >= this.maxFlushes || !this.queue.length) return;
    this.flushScheduled = true;
    // after this tick's other appends have queued, so that they share the group
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.flushing >= this.maxFlushes) return;
      const group = takeGroup(this.queue, MAX_GROUP_EVENTS);
      if (!group.length) return;
      this.flushing++;
      void this.flush(group).finally(() => {
        this.flushing--;
        this.pump();
      });
      this.pump();
    });
  }

  private async flush(queued: Pending[]): Promise<void> {
    // an unserialisable payload fails its own append before the group is written
    const group: { p: Pending; rows: Row[] }[] = [];
    for (const p of queued) {
      try {
        group.push({ p, rows: p.events.map((e) => ({ e, payload: JSON.stringify(e.payload) })) });
      } catch (e) {
        p.reject(new StoreUnavailableError(`cannot store events: ${(e as Error).message}`));
      }
    }
    if (!group.length) return;
    this.groupCommits.groups++;
    this.groupCommits.appends += group.length;
    try {
      const results = await this.writeGroup(group.map((g) => g.rows));
      group.forEach((g, i) => g.p.resolve(results[i]));
      return;
    } catch (e) {
      if (group.length === 1 || !refusedRow(e)) {
        const err = new StoreUnavailableError(`cannot store events: ${(e as Error).message}`);
        for (const g of group) g.p.reject(err);
        return;
      }
    }
    // A statement failed on one append's content (a row PostgreSQL refuses): one request never fails
    // another's commit, so each append is retried in its own transaction and only the bad one fails.
    this.groupCommits.split++;
    for (const g of group) {
      try {
        g.p.resolve((await this.writeGroup([g.rows]))[0]);
      } catch (e) {
        g.p.reject(new StoreUnavailableError(`cannot store events: ${(e as Error).message}`));
      }
    }
  }

  /**
   * Several appends in one statement (one transaction, one round trip), in three steps whose order is
   * what keeps events safe with several replicas:
   * 1. `locked`: lock every user's user_sync row in byte order BEFORE any seq is allocated (issue 11,
   *    item 1): held until commit, so one user's events commit in seq order and none can commit below
   *    a done_seq a worker already completed (claim skips locked rows). `ins` reads nothing until the
   *    count over `locked` is known, so every lock is taken before its first nextval.
   * 2. `ins`: insert the events, keeping the first copy of a key (ON CONFLICT DO NOTHING). In key
   *    order, so that even waits on another transaction's copy of a key cannot form a cycle.
   * 3. `pending`: raise each user's pending_seq to its newest stored event (rows locked in step 1).
   * Missing user rows are created first, committed on their own: a row with nothing pending is inert,
   * and rows locked in step 1 must exist (a statement cannot update a row it inserted itself).
   */
  private async writeGroup(appends: Row[][]): Promise<AppendResult[]> {
    const receivedAt = new Date(this.now()).toISOString();
    const now = this.now();
    // Only the first copy of a dedupe key in the group is sent; a later copy is a duplicate of it.
    const flat = appends.flat();
    const firstAt = new Map<string, number>();
    flat.forEach((r, i) => {
      if (!firstAt.has(r.e.dedupeKey)) firstAt.set(r.e.dedupeKey, i);
    });
    const rows = [...firstAt.values()].map((i) => flat[i]);
    const users = [...new Set(rows.map((r) => r.e.userKey))];
    await this.pool.query(`INSERT INTO user_sync (user_key) SELECT k FROM unnest($1::text[]) AS k ORDER BY k COLLATE "C" ON CONFLICT (user_key) DO NOTHING`, [
      users,
    ]);
    const r = await this.pool.query(
      `WITH locked AS (SELECT user_key FROM user_sync WHERE user_key = ANY($8) ORDER BY user_key COLLATE "C" FOR UPDATE),
         ins AS (
           INSERT INTO inbox (dedupe_key, user_key, type, occurred_at, received_at, payload)
           SELECT k, u, t, o, $6, p::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS e(k, u, t, o, p)
           WHERE (SELECT count(*) FROM locked) = (SELECT count(DISTINCT k) FROM unnest($8::text[]) AS k)
           ORDER BY k COLLATE "C"
           ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq, dedupe_key, user_key),
         pending AS (
           UPDATE user_sync s SET pending_seq = GREATEST(s.pending_seq, n.seq),
             next_attempt_at = CASE WHEN s.attempts = 0 THEN LEAST(s.next_attempt_at, $7) ELSE s.next_attempt_at END
           FROM (SELECT user_key, max(seq) AS seq FROM ins GROUP BY user_key) n WHERE s.user_key = n.user_key)
       SELECT (SELECT count(*) FROM locked) AS locked, (SELECT count(DISTINCT k) FROM unnest($8::text[]) AS k) AS users,
         (SELECT array_agg(dedupe_key) FROM ins) AS inserted`,
      [
        rows.map((r) => r.e.dedupeKey),
        rows.map((r) => r.e.userKey),
        rows.map((r) => r.e.type),
        rows.map((r) => r.e.occurredAt),
        rows.map((r) => r.payload),
        receivedAt,
        now,
        users,
      ],
    );
    // nothing deletes user_sync rows; should one vanish anyway, nothing was inserted: the group fails (503, Didomi retries)
    if (r.rows[0].locked !== r.rows[0].users) throw new Error('a user_sync row vanished before it could be locked');
    const inserted = new Set<string>(r.rows[0].inserted ?? []);
    let i = 0;
    return appends.map((a) => ({
      stored: a.map((r) => {
        const at = i++;
        return firstAt.get(r.e.dedupeKey) === at && inserted.has(r.e.dedupeKey);
      }),
    }));
  }

  /** One statement: the leased rows are locked only while it runs, never across round trips, so appends seldom wait on a claim. */
  async claim(o: ClaimOptions): Promise<ClaimedUser[]> {
    const now = this.now();
    const r = await this.pool.query(
      // An expired lease (previous owner still set) means a worker died mid-batch: its written cache cannot be trusted.
      `WITH due AS (
         SELECT user_key, lease_owner AS previous_owner FROM user_sync
         WHERE (pending_seq > done_seq OR forced) AND next_attempt_at <= $3 AND lease_until <= $3
         ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE user_sync u SET lease_owner = $1, lease_until = $2 FROM due WHERE u.user_key = due.user_key
         RETURNING u.user_key, u.state, CASE WHEN due.previous_owner IS NULL THEN u.written END AS written, u.attempts, u.first_failed_at, u.done_seq)
       SELECT c.user_key, c.state, c.written, c.attempts, c.first_failed_at, e.events FROM claimed c
       CROSS JOIN LATERAL (
         SELECT json_agg(json_build_object('seq', i.seq, 'dedupeKey', i.dedupe_key, 'userKey', i.user_key, 'type', i.type,
           'occurredAt', i.occurred_at, 'receivedAt', i.received_at, 'payload', i.payload) ORDER BY i.seq) AS events
         FROM (SELECT * FROM inbox WHERE user_key = c.user_key AND seq > c.done_seq ORDER BY seq LIMIT $5) i) e`,
      [o.workerId, now + o.leaseMs, now, o.maxUsers, o.maxEventsPerUser],
    );
    return r.rows.map((u) => ({
      userKey: u.user_key,
      state: u.state,
      written: u.written,
      attempts: u.attempts,
      firstFailedAt: u.first_failed_at,
      events: (u.events ?? []) as StoredEvent[],
    }));
  }

  async extendLeases(workerId: string, userKeys: string[], leaseMs: number): Promise<string[]> {
    const r = await this.pool.query(
      `WITH mine AS (SELECT user_key FROM user_sync WHERE user_key = ANY($2) AND lease_owner = $3 ORDER BY user_key COLLATE "C" FOR UPDATE)
       UPDATE user_sync u SET lease_until = $1 FROM mine WHERE u.user_key = mine.user_key AND u.lease_owner = $3 RETURNING u.user_key`,
      [this.now() + leaseMs, userKeys, workerId],
    );
    return r.rows.map((x) => x.user_key);
  }

  // complete() and fail() are one statement each, whatever the batch size: the rows are locked in byte
  // order in `mine` (the order append locks them in, so neither waits on the other in a cycle), then
  // updated only where this worker still holds the lease.
  async complete(workerId: string, users: CompletedUser[]): Promise<string[]> {
    const list = firstPerUser(users);
    if (!list.length) return [];
    // One JSON document rather than text[] arrays: pg would build a Postgres array literal for each
    // (every quote in the JSON escaped, a second copy of a batch's states) on top of the strings
    // themselves; a 1,000-user batch is ~1.5 MB of state (bench/peak-rss.ts, issue 17). `->` keeps
    // what the arrays sent: a JSON null stays a jsonb null, an undefined state (no key) is SQL NULL.
    const r = await this.pool.query(
      `WITH d AS (SELECT x->>'k' AS user_key, x->'s' AS state, x->'w' AS written, (x->>'n')::bigint AS done_seq FROM jsonb_array_elements($1::jsonb) AS x),
         mine AS (SELECT user_key FROM user_sync WHERE user_key = ANY($2) AND lease_owner = $3 ORDER BY user_key COLLATE "C" FOR UPDATE)
       UPDATE user_sync u SET state = d.state, written = d.written, done_seq = GREATEST(u.done_seq, d.done_seq), forced = false,
         attempts = 0, first_failed_at = NULL, last_error = NULL, next_attempt_at = 0, lease_owner = NULL, lease_until = 0
       FROM mine, d
       WHERE u.user_key = mine.user_key AND d.user_key = mine.user_key AND u.lease_owner = $3
       RETURNING u.user_key`,
      [JSON.stringify(list.map((u) => ({ k: u.userKey, s: u.state, w: u.written, n: u.doneSeq }))), list.map((u) => u.userKey), workerId],
    );
    const saved = new Set(r.rows.map((x) => x.user_key as string));
    return list.filter((u) => saved.has(u.userKey)).map((u) => u.userKey);
  }

  async fail(workerId: string, users: FailedUser[]): Promise<void> {
    const list = firstPerUser(users);
    if (!list.length) return;
    const fold = (u: FailedUser) => u.state !== undefined && u.doneSeq !== undefined;
    await this.pool.query(
      // A failed run may have written some records: forget the written cache so the next run writes every field.
      // Events up to doneSeq may still be folded into the saved state (FailedUser.doneSeq).
      `WITH mine AS (SELECT user_key FROM user_sync WHERE user_key = ANY($1) AND lease_owner = $7 ORDER BY user_key COLLATE "C" FOR UPDATE)
       UPDATE user_sync u SET state = CASE WHEN d.fold THEN d.state::jsonb ELSE u.state END,
         done_seq = CASE WHEN d.fold THEN GREATEST(u.done_seq, d.done_seq) ELSE u.done_seq END,
         attempts = u.attempts + 1, first_failed_at = COALESCE(u.first_failed_at, $8), next_attempt_at = d.next_at, last_error = d.error,
         written = NULL, lease_owner = NULL, lease_until = 0
       FROM mine, unnest($1::text[], $2::boolean[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS d(user_key, fold, state, done_seq, next_at, error)
       WHERE u.user_key = mine.user_key AND d.user_key = mine.user_key AND u.lease_owner = $7`,
      [
        list.map((u) => u.userKey),
        list.map(fold),
        list.map((u) => (fold(u) ? JSON.stringify(u.state) : null)),
        list.map((u) => (fold(u) ? u.doneSeq : null)),
        list.map((u) => u.nextAttemptAt.getTime()),
        list.map((u) => u.error.slice(0, 2000)),
        workerId,
        new Date(this.now()).toISOString(),
      ],
    );
  }

  async release(workerId: string): Promise<void> {
    await this.pool.query(
      `WITH mine AS (SELECT user_key FROM user_sync WHERE lease_owner = $1 ORDER BY user_key COLLATE "C" FOR UPDATE)
       UPDATE user_sync u SET lease_owner = NULL, lease_until = 0 FROM mine WHERE u.user_key = mine.user_key AND u.lease_owner = $1`,
      [workerId],
    );
  }

  async requeue(userKeys: string[]): Promise<void> {
    const keys = [...new Set(userKeys)];
    if (!keys.length) return;
    await this.pool.query(
      `INSERT INTO user_sync (user_key, forced) SELECT k, true FROM unnest($1::text[]) AS k ORDER BY k COLLATE "C"
       ON CONFLICT (user_key) DO UPDATE SET forced = true, written = NULL, next_attempt_at = 0, attempts = 0`,
      [keys],
    );
  }

  async addDeadLetters(letters: DeadLetter[]): Promise<void> {
    const list = [...new Map(letters.map((l) => [l.key, l])).values()];
    if (!list.length) return;
    await this.pool.query(
      `INSERT INTO dead_letters (key, user_key, payload, synced, created_at)
       SELECT k, u, p::jsonb, false, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS d(k, u, p) ORDER BY k COLLATE "C"
       ON CONFLICT (key) DO UPDATE SET payload = EXCLUDED.payload, synced = false`,
      [list.map((l) => l.key), list.map((l) => l.userKey), list.map((l) => JSON.stringify(l.payload)), new Date(this.now()).toISOString()],
    );
  }

  async unsyncedDeadLetters(limit: number): Promise<DeadLetter[]> {
    const r = await this.pool.query('SELECT key, user_key, payload FROM dead_letters WHERE NOT synced ORDER BY created_at LIMIT $1', [limit]);
    return r.rows.map((x) => ({ key: x.key, userKey: x.user_key, payload: x.payload }));
  }

  async markDeadLettersSynced(keys: string[]): Promise<void> {
    await this.pool.query('UPDATE dead_letters SET synced = true WHERE key = ANY($1)', [keys]);
  }

  async holdReverseLease(stream: string, holder: string, leaseMs: number, now: number): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO reverse_position (stream, holder, lease_until) VALUES ($1, $2, $3) ON CONFLICT (stream) DO UPDATE
       SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until WHERE reverse_position.holder = EXCLUDED.holder OR reverse_position.lease_until < $4
       RETURNING holder`,
      [stream, holder, now + leaseMs, now],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async releaseReverseLease(stream: string, holder: string): Promise<void> {
    await this.pool.query('UPDATE reverse_position SET holder = NULL, lease_until = 0 WHERE stream = $1 AND holder = $2', [stream, holder]);
  }

  async reversePosition(stream: string): Promise<ReversePosition | null> {
    const r = await this.pool.query('SELECT replay_id, commit_at FROM reverse_position WHERE stream = $1', [stream]);
    return r.rowCount ? { replayId: r.rows[0].replay_id, commitAt: Number(r.rows[0].commit_at) } : null;
  }

  async saveReversePosition(stream: string, holder: string, position: ReversePosition): Promise<boolean> {
    const r = await this.pool.query('UPDATE reverse_position SET replay_id = $1, commit_at = $2 WHERE stream = $3 AND holder = $4', [
      position.replayId,
      position.commitAt,
      stream,
      holder,
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async stats(): Promise<StoreStats> {
    const r = await this.pool.query(`SELECT
      (SELECT count(*) FROM user_sync WHERE pending_seq > done_seq OR forced) AS users,
      (SELECT count(*) FROM user_sync u JOIN inbox i ON i.user_key = u.user_key AND i.seq > u.done_seq WHERE u.pending_seq > u.done_seq) AS events,
      (SELECT min(i.received_at) FROM user_sync u JOIN inbox i ON i.user_key = u.user_key AND i.seq > u.done_seq WHERE u.pending_seq > u.done_seq) AS oldest,
      (SELECT count(*) FROM dead_letters WHERE NOT synced) AS dead`);
    const x = r.rows[0];
    return { pendingUsers: Number(x.users), pendingEvents: Number(x.events), oldestPendingAt: x.oldest, deadLettersUnsynced: Number(x.dead) };
  }

  async prune(receivedBefore: Date, limit: number): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM inbox WHERE seq IN (SELECT i.seq FROM inbox i JOIN user_sync u ON u.user_key = i.user_key
         WHERE i.received_at < $1 AND i.seq <= u.done_seq AND u.attempts = 0 ORDER BY i.received_at LIMIT $2)`,
      [receivedBefore.toISOString(), limit],
    );
    return r.rowCount ?? 0;
  }
}

/**
 * An error that one append's rows can cause while the others would commit: a value PostgreSQL refuses
 * (class 22, e.g. 22P05 U+0000 in jsonb), a constraint (23), a limit such as an index row too large
 * (54), or a transaction rolled back (40). Anything else (the database away, out of connections or
 * disk) fails every append at once instead of being retried one by one.
 */
function refusedRow(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && ['22', '23', '54', '40'].includes(code.slice(0, 2)) && !isConnectionError(e);
}

/** One outcome per user, the first given: after it the lease is released, so a later one would change nothing (as on SQLite). */
function firstPerUser<T extends { userKey: string }>(users: T[]): T[] {
  const seen = new Map<string, T>();
  for (const u of users) if (!seen.has(u.userKey)) seen.set(u.userKey, u);
  return [...seen.values()];
}

/** Takes appends from the head of the queue up to `maxEvents` events (at least one append). */
function takeGroup(queue: Pending[], maxEvents: number): Pending[] {
  let n = 0;
  let i = 0;
  while (i < queue.length && (i === 0 || n + queue[i].events.length <= maxEvents)) n += queue[i++].events.length;
  return queue.splice(0, i);
}
