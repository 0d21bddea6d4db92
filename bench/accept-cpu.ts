// CPU per accepted webhook (issue 17): the service's accept path against bare Express parsing the same
// bodies (bench/bare-express-app.js), both posted the same items by the benchmark's client at max rate.
// The sync is held (every emulator request waits an hour), so the figure is the accept path alone:
// token check, parsing, validation, de-duplication key, durable append, 202.
//   node bench/accept-cpu.ts [--events N] [--store sqlite|postgres] [--src] [--profile]
//   --src      run the TypeScript sources (type stripping) instead of the compiled JS npm start runs
//   --profile  also write V8 CPU profiles (results/tmp/) and print where the service's time goes
import { parseArgs } from 'node:util';
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, ROOT } from '../test/support/stack.ts';
import { pgSchema } from '../test/support/pg-schema.ts';
import { makeWorkload } from '../test/support/didomi-workload.ts';
import { postWebhooks } from './post-webhooks.ts';
import { peakRssMb, startBareExpress } from './ceiling.ts';

const { values: a } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    store: { type: 'string', default: 'sqlite' },
    src: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const events = Number(a.events);
const warmup = Math.min(2000, Math.floor(events / 5));
const items = makeWorkload({ events: events + warmup, users: Math.max(100, Math.floor(events / 4)), seed: 11 });
const profDir = join(ROOT, 'results/tmp', `prof-${Date.now()}`);
if (a.profile) mkdirSync(profDir, { recursive: true });
const profFlags = (name: string) => (a.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, name)}`] : []);

let tick = 100;
try {
  tick = Number(execSync('getconf CLK_TCK').toString()) || 100;
} catch {
  /* Linux's usual 100 Hz */
}
/** User + system CPU of a process so far, in ms (/proc/<pid>/stat fields 14 and 15). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / tick;
}

async function measure(url: string, token: string | null, pid: number) {
  await postWebhooks(url, token, items.slice(0, warmup), 'max', new Map());
  const c0 = cpuMs(pid);
  const perSec = await postWebhooks(url, token, items.slice(warmup), 'max', new Map());
  return { perSec, cpuMsPerWebhook: (cpuMs(pid) - c0) / events, peakRssMb: peakRssMb(pid) };
}

const bare = await startBareExpress(profFlags('bare'));
const ceiling = await measure(bare.url, 'x', bare.pid);
await bare.stop();

const db = a.store === 'postgres' ? await pgSchema('acceptcpu') : null;
const databaseUrl = db?.databaseUrl;
const stack = await startStack({
  mode: 'child',
  compiled: !a.src,
  nodeFlags: profFlags('service'),
  store: a.store as 'sqlite' | 'postgres',
  databaseUrl,
  seed: { contact: false, leadUpsert: true },
  env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000', LOG_LEVEL: 'warn' },
});
const token = await stack.token();
await stack.emu.setFaults({ latencyMs: 3_600_000 }); // hold the sync: only the accept path runs
const service = await measure(stack.url, token, stack.child!.pid!);
await stack.emu.setFaults({ latencyMs: 0 });
await stack.close();
await db?.drop();

const row = (name: string, m: typeof ceiling) =>
  `| ${name} | ${Math.round(m.perSec)} | ${(m.perSec / ceiling.perSec).toFixed(2)}x | ${m.cpuMsPerWebhook.toFixed(3)} | ${m.peakRssMb} |`;
console.log(`Accept path: ${events} webhooks at max rate (after ${warmup} to warm up), ${a.store}, ${a.src ? 'TypeScript sources' : 'compiled JS'}`);
console.log('| process | accepted/s | to bare Express | CPU ms per webhook | peak RSS (MB) |\n|---|---|---|---|---|');
console.log(row('bare Express', ceiling));
console.log(row(`service (${a.store})`, service));

if (a.profile) for (const name of ['service', 'bare']) summarise(name, join(profDir, name));
process.exit(0); // the emulator still holds the requests the sync made (an hour's latency)

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
/** Self and inclusive share of the busy samples (idle excluded) per function, top 25 by inclusive. */
function summarise(name: string, dir: string) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return console.log(`(no profile for ${name})`);
  const { nodes } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url
      .replace(/^.*node_modules\//, '')
      .replace(ROOT + '/', '')
      .replace(/^file:\/\//, '')}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let busy = 0;
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits || n.callFrame.functionName === '(idle)') continue;
    busy += hits;
    self.set(label(n), (self.get(label(n)) ?? 0) + hits);
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id)!);
      if (seen.has(l)) continue;
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + hits);
    }
  }
  const pctOf = (x: number) => ((100 * x) / busy).toFixed(1).padStart(5);
  console.log(`\n${name}: ${busy} busy samples (${dir})\n  incl%  self%  function`);
  for (const [l, v] of [...incl].sort((x, y) => y[1] - x[1]).slice(0, 45)) console.log(`  ${pctOf(v)}  ${pctOf(self.get(l) ?? 0)}  ${l}`);
  console.log('  top self:');
  for (const [l, v] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`  ${pctOf(v)}  ${l}`);
}
