// Which Salesforce -> Didomi component the engine runs, by REVERSE_MODE (sync/reverse-runner.ts):
// cdc a long-lived subscriber (no housekeeping task), poll the `reverse` housekeeping task and no
// gRPC channel, off or no Didomi API nothing at all. The behaviour of each is in reverse*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { requiredEnv } from './support/required-env.ts';
import { buildClients } from '../src/service.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createLogger } from '../src/observability/logger.ts';
import { reverseRunner } from '../src/sync/reverse-runner.ts';
import type { Store } from '../src/store/types.ts';

const didomiApi = { DIDOMI_API_KEY: 'k', DIDOMI_API_SECRET: 's', DIDOMI_ORGANIZATION_ID: 'o' };
const config = (o: Record<string, string>) => loadConfig(requiredEnv({ PUBSUB_URL: 'grpc://127.0.0.1:9', ...o }));

async function runnerFor(env: Record<string, string>) {
  const c = config(env);
  const metrics = createMetrics();
  const clients = await buildClients(c, metrics, Date.now);
  const store = {} as unknown as Store; // never reached: nothing is started
  const runner = reverseRunner({ config: c, clients, store, logger: createLogger('silent'), metrics, holder: 'h', syncConfig: () => null, now: Date.now });
  return { clients, runner };
}

test('REVERSE_MODE=cdc (the default): a Pub/Sub client for the change event subscriber, no polling task', async () => {
  const { clients, runner } = await runnerFor({ ...didomiApi });
  assert.ok(clients.pubsub, 'a Pub/Sub client is built');
  assert.deepEqual(
    runner.tasks.map((t) => t.name),
    [],
  );
  clients.pubsub.close();
});

test('REVERSE_MODE=poll: the reverse housekeeping task, and no gRPC channel opened', async () => {
  const { clients, runner } = await runnerFor({ ...didomiApi, REVERSE_MODE: 'poll' });
  assert.equal(clients.pubsub, null);
  assert.deepEqual(
    runner.tasks.map((t) => t.name),
    ['reverse'],
  );
});

test('REVERSE_MODE=off, or no Didomi API: nothing runs Salesforce -> Didomi', async () => {
  for (const env of [{ ...didomiApi, REVERSE_MODE: 'off' }, { REVERSE_MODE: 'cdc' }, { REVERSE_MODE: 'poll' }]) {
    const { clients, runner } = await runnerFor(env);
    assert.equal(clients.pubsub, null, JSON.stringify(env));
    assert.deepEqual(runner.tasks, [], JSON.stringify(env));
  }
});
