// A fresh schema on the test PostgreSQL database (TEST_DATABASE_URL), for a run that must not see
// another's tables: its connection URL (search_path set), and drop() to remove it afterwards.
import pg from 'pg';
import { TEST_DATABASE_URL } from './stack.ts';

export async function pgSchema(prefix: string): Promise<{ schema: string; databaseUrl: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Date.now() % 100000}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    databaseUrl: `${TEST_DATABASE_URL}?options=-c%20search_path%3D${schema}`,
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}
