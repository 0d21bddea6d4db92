// npm run bench: this product's batched engine against the peers' per-event strategy, on the org
// emulator with a per-request latency like a real org over the internet. Prints a table, writes
// results/latest.json and results/latest.svg; the README's Performance section only with --update-readme.
//   --small            a few thousand events (part of npm test)
//   --events N --users N --latency MS --stores sqlite,postgres --no-baseline
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, ROOT, CONSUMER_KEY, SF_USERNAME, type Stack } from '../test/support/stack.ts';
import { pgSchema } from '../test/support/pg-schema.ts';
import { makeWorkload, expectedLeads, mismatches, userEmail, type WorkItem } from '../test/support/didomi-workload.ts';
import { PURPOSE, PHONE_PURPOSE } from '../test/support/org-fixture.ts';
import { startBaseline } from './baseline-per-event.ts';
import { renderChart } from './chart.ts';
import { postWebhooks } from './post-webhooks.ts';
import { measureCeiling, peakRssMb } from './ceiling.ts';

const { values: a } = parseArgs({
  options: {
    small: { type: 'boolean', default: false },
    events: { type: 'string' },
    users: { type: 'string' },
    latency: { type: 'string' },
    stores: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    'update-readme': { type: 'boolean', default: false },
  },
});
const small = a.small;
const cfg = {
  events: Number(a.events ?? (small ? 3000 : 50_000)),
  users: Number(a.users ?? (small ? 600 : 10_000)),
  latencyMs: Number(a.latency ?? (small ? 20 : 100)),
  phaseA: { rate: 100, seconds: small ? 3 : 20 },
  phaseB: { rate: 1000, seconds: small ? 1 : 10 },
  stores: (a.stores ?? (small ? 'sqlite' : 'sqlite,postgres')).split(',') as ('sqlite' | 'postgres')[],
  baselineCap: small ? 1500 : 12_000,
  baselineConcurrency: 20,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);

interface Phase {
  name: string;
  offered: number | 'max';
  events: number;
  acceptedPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; samples: number };
  apiCalls: number;
}
interface Result {
  strategy: string;
  store: string;
  events: number;
  phases: Phase[];
  drainPerSec: number;
  apiCallsPer1000: number;
  peakRssMb: number | null;
  /** Bare Express's max accepted/s for the same bodies, measured just before this row's max phase. */
  ceilingPerSec: number;
  ceilingPeakRssMb: number;
  /** The max phase's accepted/s over ceilingPerSec (issue 17 targets: SQLite >= 0.5, PostgreSQL >= 0.4). */
  toCeiling: number;
  mismatches: number;
  mismatchExamples: unknown[];
}

async function latencies(stack: Stack, leadIds: Map<string, string>, items: WorkItem[], accepted: Map<WorkItem, number>, since: number) {
  const writes = ((await (await fetch(`${stack.emu.url}/__emulator/writes?since=${since}`)).json()) as any).writes as {
    at: number;
    sobject: string;
    id: string;
  }[];
  const byId = new Map<string, number[]>();
  for (const w of writes) if (w.sobject === 'Lead') (byId.get(w.id) ?? byId.set(w.id, []).get(w.id)!).push(w.at);
  const out: number[] = [];
  for (const it of items) {
    if (it.duplicate) continue;
    const t = accepted.get(it);
    const times = byId.get(leadIds.get(it.user) ?? '');
    if (t === undefined || !times) continue;
    const w = times.find((x) => x >= t - 5); // the first write of this lead after the event was acknowledged
    if (w !== undefined) out.push(Math.max(0, w - t));
  }
  return { p50: pct(out, 50), p95: pct(out, 95), p99: pct(out, 99), samples: out.length };
}

async function run(strategy: 'engine' | 'baseline', store: 'sqlite' | 'postgres'): Promise<Result> {
  const items = makeWorkload({ events: cfg.events, users: cfg.users, seed: 7 });
  const used = strategy === 'baseline' ? items.slice(0, cfg.phaseA.rate * cfg.phaseA.seconds + cfg.phaseB.rate * cfg.phaseB.seconds + cfg.baselineCap) : items;
  const db = store === 'postgres' ? await pgSchema('bench') : null;
  const databaseUrl = db?.databaseUrl;
  const stack = await startStack({
    mode: 'child',
    compiled: true, // measured the way npm start runs it
    store,
    databaseUrl,
    seed: { contact: false, leadUpsert: true },
    env: { HEARTBEAT_MS: '60000', CONFIG_REFRESH_MS: '60000', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '2' },
  });
  const leadIds = new Map<string, string>();
  const ids = stack.emu.seed({ Lead: Array.from({ length: cfg.users }, (_, i) => ({ LastName: `U${i}`, Company: 'Bench', Email: userEmail(i) })) }).Lead;
  ids.forEach((id, i) => leadIds.set(userEmail(i), id));
  await stack.emu.setFaults({ latencyMs: cfg.latencyMs });
  let url = stack.url;
  let token: string | null = await stack.token();
  let baseline: Awaited<ReturnType<typeof startBaseline>> | null = null;
  if (strategy === 'baseline') {
    await stack.kill('SIGTERM');
    baseline = await startBaseline({
      loginUrl: stack.emu.url,
      clientId: CONSUMER_KEY,
      username: SF_USERNAME,
      privateKey: stack.env.SF_PRIVATE_KEY,
      concurrency: cfg.baselineConcurrency,
      purposeField: { [PURPOSE]: { field: 'HasOptedOutOfEmail', invert: true }, [PHONE_PURPOSE]: { field: 'DoNotCall', invert: true } },
    });
    url = baseline.url;
    token = null;
  }
  const calls = () => (baseline ? baseline.calls() : stack.emu.stats().apiCalls.total);
  const drained = async (timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (baseline ? baseline.pending() === 0 : Number(/^didomi_sync_queue_depth (\S+)/m.exec(await stack.metrics())?.[1]) === 0) return;
      if (Date.now() > end) throw new Error(`${strategy}/${store}: not drained after ${timeoutMs} ms`);
      await sleep(100);
    }
  };
  const accepted = new Map<WorkItem, number>();
  const phases: Phase[] = [];
  const nA = cfg.phaseA.rate * cfg.phaseA.seconds;
  const nB = cfg.phaseB.rate * cfg.phaseB.seconds;
  const slices: [string, number | 'max', WorkItem[]][] = [
    [`${cfg.phaseA.rate}/s`, cfg.phaseA.rate, used.slice(0, nA)],
    [`${cfg.phaseB.rate}/s`, cfg.phaseB.rate, used.slice(nA, nA + nB)],
    ['max', 'max', used.slice(nA + nB)],
  ];
  let drainStart = 0;
  let drainedAt = 0;
  let ceiling = { acceptedPerSec: NaN, peakRssMb: NaN };
  for (const [name, rate, slice] of slices) {
    // The ceiling, in the same run and conditions: the service idle (drained), the same bodies and client.
    if (rate === 'max') ceiling = await measureCeiling(slice, token);
    const since = Date.now();
    const c0 = calls();
    if (rate === 'max') drainStart = since;
    const acceptedPerSec = await postWebhooks(url, token, slice, rate, accepted);
    await drained(small ? 120_000 : 1_200_000);
    if (rate === 'max') drainedAt = Date.now();
    phases.push({
      name,
      offered: rate,
      events: slice.length,
      acceptedPerSec,
      latencyMs: await latencies(stack, leadIds, slice, accepted, since),
      apiCalls: calls() - c0,
    });
    if (rate === 'max') process.stdout.write(`  bare Express ceiling: ${slice.length} events, ${Math.round(ceiling.acceptedPerSec)} accepted/s\n`);
    process.stdout.write(
      `  ${strategy}/${store} ${name}: ${slice.length} events, ${Math.round(acceptedPerSec)} accepted/s, p99 ${Math.round(phases.at(-1)!.latencyMs.p99)} ms, ${phases.at(-1)!.apiCalls} API calls\n`,
    );
  }
  const peakRss = stack.child?.pid && stack.child.exitCode === null ? peakRssMb(stack.child.pid) : null;
  const wrong = mismatches(await stack.records('Lead'), expectedLeads(used));
  const totalCalls = phases.reduce((n, p) => n + p.apiCalls, 0);
  await baseline?.close();
  await stack.close();
  await db?.drop();
  const maxPhase = phases[2];
  return {
    strategy: strategy === 'engine' ? 'batched engine' : 'per-event baseline',
    store: strategy === 'engine' ? store : 'memory',
    events: used.length,
    phases,
    drainPerSec: Math.round((maxPhase.events * 1000) / Math.max(1, drainedAt - drainStart)),
    apiCallsPer1000: Math.round((totalCalls * 1000 * 100) / used.length) / 100,
    peakRssMb: peakRss,
    ceilingPerSec: Math.round(ceiling.acceptedPerSec),
    ceilingPeakRssMb: ceiling.peakRssMb,
    toCeiling: Math.round((maxPhase.acceptedPerSec / ceiling.acceptedPerSec) * 100) / 100,
    mismatches: wrong.length,
    mismatchExamples: wrong.slice(0, 3),
  };
}

console.log(`Benchmark: ${cfg.events} Didomi events over ${cfg.users} users, emulator latency ${cfg.latencyMs} ms per request${small ? ' (small run)' : ''}`);
const results: Result[] = [];
for (const store of cfg.stores) results.push(await run('engine', store));
if (!a['no-baseline']) results.push(await run('baseline', 'sqlite'));

const base = results.find((r) => r.strategy === 'per-event baseline');
// Measured next to each row (absolute rates drift on a shared machine); the mean is the run's figure.
const ceilingPerSec = Math.round(results.reduce((n, r) => n + r.ceilingPerSec, 0) / results.length);
const f = (n: number | null, d = 0) => (n === null || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
const ratio = (x: number, y: number | undefined) => (y ? ` (${(x / y).toFixed(x / y < 0.1 ? 3 : 2)}x)` : '');
const lines = [
  `| strategy | store | events | accepted/s (max) | to bare Express | drain events/s | p50 / p95 / p99 at ${cfg.phaseA.rate}/s (ms) | p50 / p95 / p99 at ${cfg.phaseB.rate}/s (ms) | API calls per 1,000 events | peak RSS (MB) | mismatches |`,
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.strategy} | ${r.store} | ${r.events} | ${f(r.phases[2].acceptedPerSec)} | ${f(r.toCeiling, 2)}x | ${f(r.drainPerSec)}${ratio(r.drainPerSec, base?.drainPerSec)} | ${f(r.phases[0].latencyMs.p50)} / ${f(r.phases[0].latencyMs.p95)} / ${f(r.phases[0].latencyMs.p99)} | ${f(r.phases[1].latencyMs.p50)} / ${f(r.phases[1].latencyMs.p95)} / ${f(r.phases[1].latencyMs.p99)}${ratio(r.phases[1].latencyMs.p99, base?.phases[1].latencyMs.p99)} | ${f(r.apiCallsPer1000, 1)}${ratio(r.apiCallsPer1000, base?.apiCallsPer1000)} | ${f(r.peakRssMb)} | ${r.mismatches} |`,
  ),
  `| bare Express ceiling | none | ${results[0].phases[2].events} | ${f(ceilingPerSec)} | 1x | n/a | n/a | n/a | n/a | ${f(Math.max(...results.map((r) => r.ceilingPeakRssMb)))} | n/a |`,
];
console.log('\n' + lines.join('\n'));
const stamp = new Date().toISOString();
const out = { at: stamp, config: cfg, node: process.version, ceilingPerSec, results };
const dir = join(ROOT, 'results');
mkdirSync(dir, { recursive: true });
const engine = results.filter((r) => r.strategy === 'batched engine');
const failures: string[] = [];
for (const r of engine) if (r.mismatches) failures.push(`${r.store}: ${r.mismatches} mismatches, e.g. ${JSON.stringify(r.mismatchExamples)}`);
if (!small) {
  writeFileSync(join(dir, `bench-${stamp.slice(0, 10)}.json`), JSON.stringify(out, null, 2));
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(out, null, 2));
  writeFileSync(join(dir, 'latest.svg'), renderChart(results, cfg));
  const readme = join(ROOT, 'README.md');
  if (a['update-readme'] && existsSync(readme)) {
    const text = readFileSync(readme, 'utf8');
    const section = `<!-- bench:start -->\nMeasured ${stamp.slice(0, 10)} on ${process.platform}/${process.arch}, Node ${process.version}, 2 cores: ${cfg.events.toLocaleString('en-US')} events over ${cfg.users.toLocaleString('en-US')} users (30% user.updated, 5% redelivered, 10% out of order), emulator latency ${cfg.latencyMs} ms per request. The baseline handles the first ${base?.events.toLocaleString('en-US') ?? 'n/a'} events (its speed would make the full run last an hour). Ratios are to the baseline, except *to bare Express*: the max accepted/s over that of a bare Express app parsing the same bodies and answering 202, measured in the same run (the ceiling row).\n\n${lines.join('\n')}\n\n![latency and API calls](results/latest.svg)\n<!-- bench:end -->`;
    writeFileSync(readme, text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, section));
  }
  console.log(`\nWritten: results/latest.json, results/latest.svg${a['update-readme'] ? ', README.md (Performance)' : ''}`);
}
if (failures.length) {
  console.error(`\nFAILED: the engine did not reach the expected state:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`\n${engine.length} passed, 0 failed`);
