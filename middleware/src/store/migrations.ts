// Versioned schema migrations, applied in order at start (store.migrate()). Append, never edit.
export const SQLITE_MIGRATIONS: string[] = [
  `CREATE TABLE inbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     dedupe_key TEXT NOT NULL UNIQUE,
     user_key TEXT NOT NULL,
     type TEXT NOT NULL,
     occurred_at TEXT NOT NULL,
     received_at TEXT NOT NULL,
     payload TEXT NOT NULL
   );
   CREATE INDEX inbox_user_seq ON inbox (user_key, seq);
   CREATE TABLE user_sync (
     user_key TEXT PRIMARY KEY,
     state TEXT,
     written TEXT,
     pending_seq INTEGER NOT NULL DEFAULT 0,
     done_seq INTEGER NOT NULL DEFAULT 0,
     forced INTEGER NOT NULL DEFAULT 0,
     attempts INTEGER NOT NULL DEFAULT 0,
     first_failed_at TEXT,
     next_attempt_at INTEGER NOT NULL DEFAULT 0,
     lease_owner TEXT,
     lease_until INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE INDEX user_sync_due ON user_sync (next_attempt_at) WHERE pending_seq > done_seq OR forced = 1;
   CREATE TABLE dead_letters (
     key TEXT PRIMARY KEY,
     user_key TEXT NOT NULL,
     payload TEXT NOT NULL,
     synced INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 2: pruning finds old inbox rows by arrival time (RETENTION_DAYS)
  `CREATE INDEX inbox_received ON inbox (received_at);`,
  // 3: Salesforce -> Didomi position per change event stream (last processed replay id and commit time), and
  // the lease that lets one replica subscribe at a time (sync/cdc-subscriber.ts)
  `CREATE TABLE reverse_position (
     stream TEXT PRIMARY KEY,
     replay_id TEXT,
     commit_at INTEGER NOT NULL DEFAULT 0,
     holder TEXT,
     lease_until INTEGER NOT NULL DEFAULT 0
   );`,
];

export const POSTGRES_MIGRATIONS: string[] = [
  `CREATE TABLE inbox (
     seq BIGSERIAL PRIMARY KEY,
     dedupe_key TEXT NOT NULL UNIQUE,
     user_key TEXT NOT NULL,
     type TEXT NOT NULL,
     occurred_at TEXT NOT NULL,
     received_at TEXT NOT NULL,
     payload JSONB NOT NULL
   );
   CREATE INDEX inbox_user_seq ON inbox (user_key, seq);
   CREATE TABLE user_sync (
     user_key TEXT PRIMARY KEY,
     state JSONB,
     written JSONB,
     pending_seq BIGINT NOT NULL DEFAULT 0,
     done_seq BIGINT NOT NULL DEFAULT 0,
     forced BOOLEAN NOT NULL DEFAULT false,
     attempts INTEGER NOT NULL DEFAULT 0,
     first_failed_at TEXT,
     next_attempt_at BIGINT NOT NULL DEFAULT 0,
     lease_owner TEXT,
     lease_until BIGINT NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE INDEX user_sync_due ON user_sync (next_attempt_at) WHERE pending_seq > done_seq OR forced;
   CREATE TABLE dead_letters (
     key TEXT PRIMARY KEY,
     user_key TEXT NOT NULL,
     payload JSONB NOT NULL,
     synced BOOLEAN NOT NULL DEFAULT false,
     created_at TEXT NOT NULL
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value JSONB NOT NULL);`,
  // 2: pruning finds old inbox rows by arrival time (RETENTION_DAYS)
  `CREATE INDEX inbox_received ON inbox (received_at);`,
  // 3: see SQLITE_MIGRATIONS[2]
  `CREATE TABLE reverse_position (
     stream TEXT PRIMARY KEY,
     replay_id TEXT,
     commit_at BIGINT NOT NULL DEFAULT 0,
     holder TEXT,
     lease_until BIGINT NOT NULL DEFAULT 0
   );`,
];
