// Peak RSS of the service (issue 17): the benchmark's workload and phases (100/s, 1,000/s, max) against
// the compiled service (npm start's way), on one store, printing the process's VmHWM after start and
// after each phase. Lighter than npm run bench (no baseline, no ceiling, no latency figures), so it can
// be run several times for an A/B.
//   node bench/peak-rss.ts [--store sqlite|postgres] [--events N] [--users N] [--latency MS] [--runs N] [--src]
import { parseArgs } from 'node:util';
import { startStack } from '../test/support/stack.ts';
import { pgSchema } from '../test/support/pg-schema.ts';
import { makeWorkload, userEmail } from '../test/support/didomi-workload.ts';
import { postWebhooks } from './post-webhooks.ts';
import { peakRssMb } from './ceiling.ts';

const { values: a } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    events: { type: 'string', default: '50000' },
    users: { type: 'string', default: '10000' },
    latency: { type: 'string', default: '100' },
    runs: { type: 'string', default: '1' },
    src: { type: 'boolean', default: false },
    'node-flag': { type: 'string', multiple: true, default: [] },
  },
});
const events = Number(a.events);
const users = Number(a.users);
const store = a.store as 'sqlite' | 'postgres';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The benchmark's phases, scaled to --events: 4% at 100/s, 20% at 1,000/s, the rest as fast as accepted.
const nA = Math.round(events * 0.04);
const nB = Math.round(events * 0.2);

async function once() {
  const items = makeWorkload({ events, users, seed: 7 });
  const db = store === 'postgres' ? await pgSchema('peakrss') : null;
  const databaseUrl = db?.databaseUrl;
  const stack = await startStack({
    mode: 'child',
    compiled: !a.src,
    nodeFlags: a['node-flag'],
    store,
    databaseUrl,
    seed: { contact: false, leadUpsert: true },
    env: { HEARTBEAT_MS: '60000', CONFIG_REFRESH_MS: '60000', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '2' },
  });
  const pid = stack.child!.pid!;
  stack.emu.seed({ Lead: Array.from({ length: users }, (_, i) => ({ LastName: `U${i}`, Company: 'Bench', Email: userEmail(i) })) });
  await stack.emu.setFaults({ latencyMs: Number(a.latency) });
  const token = await stack.token();
  const out: Record<string, number> = { idle: peakRssMb(pid) };
  const drained = async () => {
    while (Number(/^didomi_sync_queue_depth (\S+)/m.exec(await stack.metrics())?.[1]) !== 0) await sleep(100);
  };
  for (const [name, rate, slice] of [
    ['100/s', 100, items.slice(0, nA)],
    ['1000/s', 1000, items.slice(nA, nA + nB)],
    ['max', 'max', items.slice(nA + nB)],
  ] as const) {
    const perSec = await postWebhooks(stack.url, token, slice, rate, new Map());
    await drained();
    out[name] = peakRssMb(pid);
    if (rate === 'max') out['accepted/s at max'] = Math.round(perSec);
  }
  await stack.close();
  await db?.drop();
  return out;
}

const peaks: number[] = [];
for (let r = 0; r < Number(a.runs); r++) {
  const out = await once();
  peaks.push(out.max);
  // accepted/s depends on the machine's load (2 shared cores): compare only runs made side by side.
  console.log(
    `${store} run ${r + 1}: peak RSS (VmHWM, MB) ${Object.entries(out)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
}
const sorted = [...peaks].sort((x, y) => x - y);
console.log(`${store}: peak RSS ${sorted[Math.floor((sorted.length - 1) / 2)]} MB median, ${sorted[0]}-${sorted.at(-1)} MB over ${peaks.length} runs`);
