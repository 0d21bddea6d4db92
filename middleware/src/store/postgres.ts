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

export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly now: () => number;

  constructor(url: string, opts: { now?: () => number; schema?: string; max?: number } = {}) {
    this.now = opts.now ?? Date.now;
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
    await this.pool.end().catch(() => undefined);
  }

  async append(events: NewEvent[]): Promise<AppendResult> {
    const receivedAt = new Date(this.now()).toISOString();
    const now = this.now();
    try {
      return await this.tx(async (c) => {
        // Lock every user's row BEFORE allocating seqs (issue 11, item 1): with the lock held until
        // commit, a user's events commit in seq order, so no event can commit below a done_seq that a
        // worker already completed (claim takes the same row lock, with SKIP LOCKED).
        await lockUsers(
          c,
          events.map((e) => e.userKey),
        );
        const stored: boolean[] = [];
        for (const e of events) {
          const r = await c.query(
            `INSERT INTO inbox (dedupe_key, user_key, type, occurred_at, received_at, payload) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq`,
            [e.dedupeKey, e.userKey, e.type, e.occurredAt, receivedAt, JSON.stringify(e.payload)],
          );
          stored.push(r.rowCount === 1);
          if (r.rowCount === 1) {
            await c.query(
              `INSERT INTO user_sync (user_key, pending_seq, next_attempt_at) VALUES ($1, $2, $3)
               ON CONFLICT (user_key) DO UPDATE SET pending_seq = GREATEST(user_sync.pending_seq, EXCLUDED.pending_seq),
                 next_attempt_at = CASE WHEN user_sync.attempts = 0 THEN LEAST(user_sync.next_attempt_at, EXCLUDED.next_attempt_at) ELSE user_sync.next_attempt_at END`,
              [e.userKey, r.rows[0].seq, now],
            );
          }
        }
        return { stored };
      });
    } catch (e) {
      throw new StoreUnavailableError(`cannot store events: ${(e as Error).message}`);
    }
  }

  async claim(o: ClaimOptions): Promise<ClaimedUser[]> {
    const now = this.now();
    return this.tx(async (c) => {
      const users = await c.query(
        // An expired lease (previous owner still set) means a worker died mid-batch: its written cache cannot be trusted.
        `WITH due AS (
           SELECT user_key, lease_owner AS previous_owner FROM user_sync
           WHERE (pending_seq > done_seq OR forced) AND next_attempt_at <= $3 AND lease_until <= $3
           ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
         UPDATE user_sync u SET lease_owner = $1, lease_until = $2 FROM due WHERE u.user_key = due.user_key
         RETURNING u.user_key, u.state, CASE WHEN due.previous_owner IS NULL THEN u.written END AS written, u.attempts, u.first_failed_at, u.done_seq`,
        [o.workerId, now + o.leaseMs, now, o.maxUsers],
      );
      if (!users.rowCount) return [];
      const keys = users.rows.map((r) => r.user_key);
      const ev = await c.query(
        `SELECT * FROM (SELECT i.*, row_number() OVER (PARTITION BY i.user_key ORDER BY i.seq) AS rn
           FROM inbox i JOIN user_sync u ON u.user_key = i.user_key WHERE i.user_key = ANY($1) AND i.seq > u.done_seq) x
         WHERE rn <= $2 ORDER BY seq`,
        [keys, o.maxEventsPerUser],
      );
      const byUser = new Map<string, StoredEvent[]>();
      for (const r of ev.rows) {
        const list = byUser.get(r.user_key) ?? [];
        list.push({
          seq: Number(r.seq),
          dedupeKey: r.dedupe_key,
          userKey: r.user_key,
          type: r.type,
          occurredAt: r.occurred_at,
          receivedAt: r.received_at,
          payload: r.payload,
        });
        byUser.set(r.user_key, list);
      }
      return users.rows.map((u) => ({
        userKey: u.user_key,
        state: u.state,
        written: u.written,
        attempts: u.attempts,
        firstFailedAt: u.first_failed_at,
        events: byUser.get(u.user_key) ?? [],
      }));
    });
  }

  async extendLeases(workerId: string, userKeys: string[], leaseMs: number): Promise<string[]> {
    const r = await this.pool.query(
      `WITH mine AS (SELECT user_key FROM user_sync WHERE user_key = ANY($2) AND lease_owner = $3 ORDER BY user_key COLLATE "C" FOR UPDATE)
       UPDATE user_sync u SET lease_until = $1 FROM mine WHERE u.user_key = mine.user_key AND u.lease_owner = $3 RETURNING u.user_key`,
      [this.now() + leaseMs, userKeys, workerId],
    );
    return r.rows.map((x) => x.user_key);
  }

  async complete(workerId: string, users: CompletedUser[]): Promise<string[]> {
    if (!users.length) return [];
    return this.tx(async (c) => {
      await lockUsers(
        c,
        users.map((u) => u.userKey),
      );
      const saved: string[] = [];
      for (const u of users) {
        const r = await c.query(
          `UPDATE user_sync SET state = $1, written = $2, done_seq = GREATEST(done_seq, $3), forced = false, attempts = 0, first_failed_at = NULL,
             last_error = NULL, next_attempt_at = 0, lease_owner = NULL, lease_until = 0 WHERE user_key = $4 AND lease_owner = $5`,
          [JSON.stringify(u.state), JSON.stringify(u.written), u.doneSeq, u.userKey, workerId],
        );
        if (r.rowCount) saved.push(u.userKey);
      }
      return saved;
    });
  }

  async fail(workerId: string, users: FailedUser[]): Promise<void> {
    if (!users.length) return;
    const now = new Date(this.now()).toISOString();
    await this.tx(async (c) => {
      await lockUsers(
        c,
        users.map((u) => u.userKey),
      );
      for (const u of users) {
        if (u.state !== undefined && u.doneSeq !== undefined) {
          await c.query('UPDATE user_sync SET state = $1, done_seq = GREATEST(done_seq, $2) WHERE user_key = $3 AND lease_owner = $4', [
            JSON.stringify(u.state),
            u.doneSeq,
            u.userKey,
            workerId,
          ]);
        }
        await c.query(
          // A failed run may have written some records: forget the written cache so the next run writes every field.
          `UPDATE user_sync SET attempts = attempts + 1, first_failed_at = COALESCE(first_failed_at, $1), next_attempt_at = $2, last_error = $3,
             written = NULL, lease_owner = NULL, lease_until = 0 WHERE user_key = $4 AND lease_owner = $5`,
          [now, u.nextAttemptAt.getTime(), u.error.slice(0, 2000), u.userKey, workerId],
        );
      }
    });
  }

  async release(workerId: string): Promise<void> {
    await this.pool.query('UPDATE user_sync SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = $1', [workerId]);
  }

  async requeue(userKeys: string[]): Promise<void> {
    await this.tx(async (c) => {
      await lockUsers(c, userKeys);
      for (const k of userKeys) {
        await c.query(
          `INSERT INTO user_sync (user_key, forced) VALUES ($1, true)
          ON CONFLICT (user_key) DO UPDATE SET forced = true, written = NULL, next_attempt_at = 0, attempts = 0`,
          [k],
        );
      }
    });
  }

  async addDeadLetters(letters: DeadLetter[]): Promise<void> {
    const now = new Date(this.now()).toISOString();
    await this.tx(async (c) => {
      for (const l of letters) {
        await c.query(
          `INSERT INTO dead_letters (key, user_key, payload, synced, created_at) VALUES ($1, $2, $3, false, $4)
          ON CONFLICT (key) DO UPDATE SET payload = EXCLUDED.payload, synced = false`,
          [l.key, l.userKey, JSON.stringify(l.payload), now],
        );
      }
    });
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
 * Takes the row lock of each user (creating missing rows), always in the same order (byte order), so
 * that transactions locking several users never deadlock one another. Held until commit.
 */
async function lockUsers(c: pg.PoolClient, userKeys: string[]): Promise<void> {
  const keys = [...new Set(userKeys)];
  if (!keys.length) return;
  await c.query(`INSERT INTO user_sync (user_key) SELECT k FROM unnest($1::text[]) AS k ORDER BY k COLLATE "C" ON CONFLICT (user_key) DO NOTHING`, [keys]);
  await c.query(`SELECT 1 FROM user_sync WHERE user_key = ANY($1) ORDER BY user_key COLLATE "C" FOR UPDATE`, [keys]);
}

/** Errors after which a connection cannot be reused: lost socket, or the server ended the session (class 57, 08). */
