// Store-level benchmark (issue 17, part 3): durable appends per second with N concurrent appenders
// (one webhook each, as the accept path calls append()), while claim/complete workers drain the same
// users, against both stores. Prints figures; asserts nothing about speed (not a test).
//   node bench/store-append.ts [--stores sqlite,postgres] [--events 20000] [--users 2000] [--appenders 32]
//     [--workers 2] [--work-ms 50] [--replicas 1] [--max-flushes N] [--src path/to/middleware/src]   (--src: measure another checkout's stores)
// PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), in a fresh schema dropped afterwards.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { NewEvent, Store } from '../middleware/src/store/types.ts';

const { values: a } = parseArgs({
  options: {
    stores: { type: 'string', default: 'sqlite,postgres' },
    events: { type: 'string', default: '20000' },
    users: { type: 'string', default: '2000' },
    appenders: { type: 'string', default: '32' },
    workers: { type: 'string', default: '2' },
    replicas: { type: 'string', default: '1' },
    src: { type: 'string', default: join(import.meta.dirname, '../middleware/src') },
    'max-flushes': { type: 'string' },
    'work-ms': { type: 'string', default: '50' },
  },
});
const cfg = {
  events: Number(a.events),
  users: Number(a.users),
  appenders: Number(a.appenders),
  workers: Number(a.workers),
  replicas: Number(a.replicas),
  /** What a worker spends on Salesforce between claim and complete (the lease is held meanwhile). */
  workMs: Number(a['work-ms']),
  src: resolve(a.src!),
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A webhook-sized payload (~600 bytes of JSON, like a Didomi event.created). */
const event = (n: number, user: string): NewEvent => ({
  dedupeKey: `bench-${n}`,
  userKey: user,
  type: 'event.created',
  occurredAt: new Date(1_700_000_000_000 + n).toISOString(),
  payload: {
    type: 'event.created',
    payload: {
      id: `evt-${n}`,
      user: { organization_user_id: user, id: `didomi-${user}` },
      consents: { purposes: [{ id: 'marketing', enabled: n % 2 === 0, channels: [{ id: 'email', enabled: true }] }] },
      metadata: { source: 'bench', note: 'x'.repeat(300) },
      created_at: new Date(1_700_000_000_000 + n).toISOString(),
    },
  },
});

interface Figures {
  store: string;
  appendsPerSec: number;
  appendMsP50: number;
  appendMsP99: number;
  claims: number;
  completes: number;
  deadlocks: number;
  errors: number;
  lost: number;
  elapsedMs: number;
  /** PostgreSQL group commit: appends per transaction (null where the store does not count them). */
  appendsPerGroup: number | null;
}

async function run(name: 'sqlite' | 'postgres'): Promise<Figures> {
  const cleanup: (() => Promise<unknown>)[] = [];
  const replicas: Store[] = [];
  if (name === 'sqlite') {
    const { SqliteStore } = await import(pathToFileURL(join(cfg.src, 'store/sqlite.ts')).href);
    const dir = mkdtempSync(join(tmpdir(), 'store-bench-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    replicas.push(new SqliteStore(join(dir, 'bench.db'))); // one process owns the file: no replicas
  } else {
    const { PostgresStore } = await import(pathToFileURL(join(cfg.src, 'store/postgres.ts')).href);
    const schema = `store_bench_${process.pid}`;
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    cleanup.push(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });
    for (let i = 0; i < cfg.replicas; i++)
      replicas.push(new PostgresStore(PG_URL, { schema, maxFlushes: a['max-flushes'] ? Number(a['max-flushes']) : undefined }));
  }
  for (const s of replicas) await s.migrate();

  const acknowledged = new Set<string>();
  const delivered = new Set<string>();
  const latencies: number[] = [];
  let next = 0;
  let producing = true;
  let claims = 0;
  let completes = 0;
  let deadlocks = 0;
  let errors = 0;
  let rnd = 17;
  const random = () => (rnd = (rnd * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const failed = (e: unknown) => {
    if (/deadlock/i.test(String((e as Error)?.message)) || (e as { code?: string })?.code === '40P01') deadlocks++;
    else errors++;
  };
  const appender = async (k: number) => {
    while (next < cfg.events) {
      const n = next++;
      const e = event(n, `user-${Math.floor(random() * cfg.users)}`);
      const t0 = performance.now();
      try {
        await replicas[(k + n) % replicas.length].append([e]);
        latencies.push(performance.now() - t0);
        acknowledged.add(e.dedupeKey);
      } catch (err) {
        failed(err);
      }
    }
  };
  const worker = async (s: Store, id: string) => {
    for (;;) {
      const draining = !producing;
      try {
        const claimed = await s.claim({ workerId: id, maxUsers: 200, maxEventsPerUser: 1000, leaseMs: 60_000 });
        claims += claimed.length;
        for (const u of claimed) for (const e of u.events) delivered.add(e.dedupeKey);
        if (claimed.length) await sleep(cfg.workMs);
        const saved = await s.complete(
          id,
          claimed.map((u) => ({ userKey: u.userKey, doneSeq: Math.max(0, ...u.events.map((e) => e.seq)), state: { n: u.events.length }, written: {} })),
        );
        completes += saved.length;
        if (draining && !claimed.length) return;
        if (!claimed.length) await sleep(5);
      } catch (err) {
        failed(err);
      }
    }
  };
  const t0 = performance.now();
  const workers = Array.from({ length: cfg.workers }, (_, i) => worker(replicas[i % replicas.length], `w${i}`));
  await Promise.all(Array.from({ length: cfg.appenders }, (_, k) => appender(k)));
  const elapsedMs = performance.now() - t0;
  producing = false;
  await Promise.all(workers);
  if (!cfg.workers) {
    // nothing drained while appending: drain now, so lost still means "acknowledged but never handed to a worker"
    for (let c; (c = await replicas[0].claim({ workerId: 'drain', maxUsers: 1000, maxEventsPerUser: 100_000, leaseMs: 60_000 })).length;) {
      for (const u of c) for (const e of u.events) delivered.add(e.dedupeKey);
      await replicas[0].complete(
        'drain',
        c.map((u) => ({ userKey: u.userKey, doneSeq: Math.max(0, ...u.events.map((e) => e.seq)), state: {}, written: {} })),
      );
    }
  }
  const groups = replicas.reduce((n, s) => n + ((s as { groupCommits?: { groups: number } }).groupCommits?.groups ?? 0), 0);
  for (const s of replicas) await s.close();
  for (const c of cleanup) await c();
  latencies.sort((x, y) => x - y);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 10) / 10;
  return {
    store: name === 'postgres' && cfg.replicas > 1 ? `postgres x${cfg.replicas}` : name,
    appendsPerSec: Math.round(acknowledged.size / (elapsedMs / 1000)),
    appendMsP50: pct(0.5),
    appendMsP99: pct(0.99),
    claims,
    completes,
    deadlocks,
    errors,
    lost: [...acknowledged].filter((k) => !delivered.has(k)).length,
    elapsedMs: Math.round(elapsedMs),
    appendsPerGroup: groups ? Math.round((acknowledged.size / groups) * 10) / 10 : null,
  };
}

console.log(`store-append: ${cfg.events} events over ${cfg.users} users, ${cfg.appenders} appenders, ${cfg.workers} claim/complete workers, src ${cfg.src}`);
const rows: Figures[] = [];
for (const s of a.stores!.split(',') as ('sqlite' | 'postgres')[]) rows.push(await run(s));
console.table(rows);
console.log(JSON.stringify({ config: cfg, rows }));
