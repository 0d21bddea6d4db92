// Salesforce -> Didomi by the mode the operator chose (REVERSE_MODE): `cdc` runs a long-lived
// change event subscriber (cdc-subscriber.ts) started and stopped with the engine; `poll` runs the
// SOQL poller (reverse.ts) as the `reverse` housekeeping task, its watermark and per-object lease in
// the store; `off` (or no Didomi API) runs nothing.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/types.ts';
import { CdcSubscriber } from './cdc-subscriber.ts';
import type { SyncClients } from './clients.ts';
import type { SyncConfig } from './config-types.ts';
import type { HousekeepingTask } from './housekeeping.ts';
import { ReverseSync } from './reverse.ts';

export interface ReverseRunner {
  /** Periodic work for housekeeping (the poller), empty for CDC. */
  tasks: HousekeepingTask[];
  start(): void;
  /** Ends the streams and gives back this replica's leases, so another replica takes over at once. */
  stop(): Promise<void>;
}

export interface ReverseRunnerDeps {
  config: Config;
  clients: SyncClients;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /** This replica's name in the store's leases. */
  holder: string;
  syncConfig: () => SyncConfig | null;
  now: () => number;
}

const idle: ReverseRunner = { tasks: [], start: () => undefined, stop: async () => undefined };

export function reverseRunner(d: ReverseRunnerDeps): ReverseRunner {
  const c = d.config;
  const didomi = d.clients.didomi;
  if (!didomi || c.REVERSE_MODE === 'off') return idle;
  const common = {
    didomi,
    config: d.syncConfig,
    logger: d.logger,
    logLevel: c.LOG_LEVEL,
    onSent: (outcome: 'sent' | 'refused' | 'retry') => d.metrics.reverseEvents.inc({ outcome }),
    now: d.now,
  };
  if (c.REVERSE_MODE === 'cdc') {
    const pubsub = d.clients.pubsub;
    if (!pubsub) return idle;
    const cdc = new CdcSubscriber({
      ...common,
      client: d.clients.salesforce,
      store: d.store,
      pubsub,
      holder: d.holder,
      leaseMs: c.REVERSE_LEASE_MS,
      retryMs: Math.max(50, 5000 * c.RETRY_BACKOFF_SCALE),
      onCatchUp: (object) => d.metrics.reverseCatchUps.inc({ object }),
      onEvent: (object, outcome) => d.metrics.reverseChangeEvents.inc({ object, outcome }),
    });
    return { tasks: [], start: () => cdc.start(), stop: () => cdc.stop() };
  }
  const poller = new ReverseSync(
    {
      ...common,
      client: d.clients.salesforce,
      persist: { store: d.store, holder: d.holder, leaseMs: Math.max(c.REVERSE_LEASE_MS, 3 * c.REVERSE_SYNC_MS) },
    },
    2 * c.REVERSE_SYNC_MS,
  );
  const task: HousekeepingTask = {
    name: 'reverse',
    everyMs: () => c.REVERSE_SYNC_MS,
    atStart: false,
    run: () => poller.poll().catch((e) => d.logger.warn({ err: (e as Error).message }, 'Salesforce -> Didomi poll failed; next poll retries')),
  };
  return { tasks: [task], start: () => undefined, stop: () => poller.release() };
}
