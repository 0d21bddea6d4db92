// Picks the store engine: PostgreSQL when DATABASE_URL is set (several replicas share one queue),
// otherwise the embedded SQLite file.
import type { Config } from '../config.ts';
import type { Store } from './types.ts';
import { SqliteStore } from './sqlite.ts';

export async function openStore(config: Pick<Config, 'DATABASE_URL' | 'SQLITE_PATH'>): Promise<Store> {
  if (config.DATABASE_URL) {
    const { PostgresStore } = await import('./postgres.ts');
    return new PostgresStore(config.DATABASE_URL);
  }
  return new SqliteStore(config.SQLITE_PATH);
}
