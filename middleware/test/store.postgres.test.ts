// Runs the store contract on a real PostgreSQL server, each test in its own schema.
import { after } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres.ts';
import { storeContract } from './store.contract.ts';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
const schemas: string[] = [];
after(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
});

async function fresh(o: { now?: () => number } = {}): Promise<PostgresStore> {
  const schema = `store_test_${process.pid}_${schemas.length}_${Date.now() % 100000}`;
  schemas.push(schema);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const s = new PostgresStore(PG_URL, { schema, ...o });
  await s.migrate();
  (s as any).schemaName = schema;
  return s;
}

storeContract('postgres', fresh, async (s) => {
  const schema = (s as any).schemaName as string;
  await s.close();
  const again = new PostgresStore(PG_URL, { schema });
  await again.migrate();
  return again;
});
