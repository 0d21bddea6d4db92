// Retention (issue 11, item 6), wired in the service: RETENTION_DAYS is validated, and a running
// service prunes inbox events once they are merged, written and older than the retention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stacksClosedAfterFile } from './support/stacks.ts';
import { eventCreated, PURPOSE } from '../../test/support/didomi-events.ts';
import { loadConfig, ConfigError } from '../src/config.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { waitFor } from '../../test/support/wait-for.ts';

const stack = stacksClosedAfterFile();

test('RETENTION_DAYS: 7 by default; zero, negative and non-numbers are refused at start', async () => {
  const s = await stack({ seed: false });
  assert.equal(loadConfig(s.env).RETENTION_DAYS, 7);
  assert.equal(loadConfig({ ...s.env, RETENTION_DAYS: '30' }).RETENTION_DAYS, 30);
  for (const bad of ['0', '-1', 'seven', '100000'])
    assert.throws(
      () => loadConfig({ ...s.env, RETENTION_DAYS: bad }),
      (e: Error) => e instanceof ConfigError && /RETENTION_DAYS/.test(e.message),
      bad,
    );
});

test('a running service prunes inbox events once merged, written and older than RETENTION_DAYS (what stays is checked with an injected clock in the store contract)', async () => {
  let store: SqliteStore | undefined;
  // the default retention (7 days), checked every 100 ms; the service runs on the emulator's clock, which the test moves
  const s = await stack({
    env: { PRUNE_EVERY_MS: '100' },
    followEmulatorClock: true,
    makeStore: (env) => (store = new SqliteStore(env.SQLITE_PATH)),
  });
  const rows = () => Number(((store as any).db.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n);
  for (let i = 0; i < 5; i++) assert.equal((await s.post(eventCreated(`old${i}@example.com`, new Date(), { purposes: { [PURPOSE]: true } }))).status, 202);
  await s.waitForDrain();
  assert.equal(rows(), 5, 'written events younger than the retention stay');
  s.emu.advanceClock(7 * 86_400_000 + 3_600_000);
  await waitFor('written events older than the retention pruned', () => rows() === 0);
  const [lead] = (await s.records('Lead')).filter((r) => r.Email === 'old0@example.com');
  assert.equal(lead.HasOptedOutOfEmail, false, 'what was written stays written');
});
