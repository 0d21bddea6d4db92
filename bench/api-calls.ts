// API calls per 1,000 events at 1,000/s, whatever the machine's speed: the benchmark's workload (seed 7)
// with its first 2,000 events (the 100/s phase) synced, then the next 10,000 fed as one batch per 1,000
// events (1,000/s with one batch a second): events posted while claims are held, then one worker claims
// them all. Prints the API calls each batch took (emulator stats). Issue 17: a batch of up to 1,000
// users costs one match composite and one write composite.
//   node bench/api-calls.ts [--users 5000] [--batches 10]
import { parseArgs } from 'node:util';
import { startStack } from '../test/support/stack.ts';
import { makeWorkload, userEmail } from '../test/support/didomi-workload.ts';
import { metricSum } from '../test/support/wait-for.ts';
import { SqliteStore } from '../middleware/src/store/sqlite.ts';
import type { ClaimOptions } from '../middleware/src/store/types.ts';

const { values: a } = parseArgs({ options: { users: { type: 'string', default: '5000' }, batches: { type: 'string', default: '10' } } });
const users = Number(a.users);
const batches = Number(a.batches);

/** A real SQLite store whose claims can be held, so every event posted meanwhile lands in one batch. */
class HeldStore extends SqliteStore {
  held = false;
  override async claim(o: ClaimOptions) {
    return this.held ? [] : super.claim(o);
  }
}

let store: HeldStore | undefined;
const s = await startStack({
  seed: { contact: false, leadUpsert: true },
  env: { HEARTBEAT_MS: '600000', CONFIG_REFRESH_MS: '600000', WORKER_CONCURRENCY: '1' },
  makeStore: (e) => (store = new HeldStore(e.SQLITE_PATH)),
});
s.emu.seed({ Lead: Array.from({ length: users }, (_, i) => ({ LastName: `U${i}`, Company: 'Bench', Email: userEmail(i) })) });
const items = makeWorkload({ events: 2000 + batches * 1000, users, seed: 7 });
const token = await s.token();

async function oneBatch(xs: typeof items) {
  store!.held = true;
  for (let i = 0; i < xs.length; i += 64) await Promise.all(xs.slice(i, i + 64).map((it) => s.post(it.body, token)));
  const calls = s.emu.stats().apiCalls.total;
  const before = metricSum(await s.metrics(), 'didomi_sync_batch_users_count');
  const usersBefore = metricSum(await s.metrics(), 'didomi_sync_batch_users_sum');
  store!.held = false;
  s.service!.engine.notify();
  await s.waitForDrain(300_000);
  const m = await s.metrics();
  return {
    calls: s.emu.stats().apiCalls.total - calls,
    batches: metricSum(m, 'didomi_sync_batch_users_count') - before,
    users: metricSum(m, 'didomi_sync_batch_users_sum') - usersBefore,
  };
}

await oneBatch(items.slice(0, 2000));
const rows = [];
for (let k = 0; k < batches; k++) rows.push(await oneBatch(items.slice(2000 + k * 1000, 3000 + k * 1000)));
const calls = rows.reduce((n, r) => n + r.calls, 0);
console.log(`events per batch 1000, users per batch ${rows.map((r) => r.users).join(' ')}`);
console.log(`API calls per batch ${rows.map((r) => r.calls).join(' ')} (batches ${rows.reduce((n, r) => n + r.batches, 0)})`);
console.log(`API calls per 1,000 events: ${(calls / batches).toFixed(2)}`);
await s.close();
