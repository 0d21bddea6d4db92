// What the HTTP layer and the service wiring need from the sync engine (sync/engine.ts).
import type { Logger } from 'pino';
import type { Store } from '../store/types.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Config } from '../config.ts';
import type { SyncClients } from './clients.ts';
import type { PlanStep } from './plan.ts';
import type { AfterWriteStep } from './after-write.ts';
import type { HousekeepingTask } from './housekeeping.ts';

export interface SyncEngineDeps {
  config: Config;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /** Salesforce (and Didomi) clients, built by service.ts. */
  clients: SyncClients;
  /** Extra planner steps: record operations added to each batch's plan (plan.ts). */
  planSteps?: PlanStep[];
  /** Extra steps after each batch's record writes, through the same write path (after-write.ts). */
  afterWriteSteps?: AfterWriteStep[];
  /** Extra periodic tasks, each on its own timer (housekeeping.ts). */
  housekeepingTasks?: HousekeepingTask[];
  /** Injectable clock for tests and the reliability suite (defaults to Date.now). */
  now?: () => number;
}

export interface SyncEngine {
  /** Starts the worker loop and the housekeeping: configuration refresh with retry and bulk requests, heartbeat, Salesforce -> Didomi, Didomi's catalogue. */
  start(): Promise<void>;
  /** Stops claiming, lets in-flight batches finish (or releases them after the grace period), then resolves. */
  stop(graceMs?: number): Promise<void>;
  /** Wakes the worker now (the accept path calls it after storing events, so light traffic is not delayed);
   *  `newEvents`: how many events were just stored (a full batch's worth is claimed without lingering). */
  notify(newEvents?: number, userKey?: string): void;
  /** Counts accepted webhook events for the heartbeat's daily counters. */
  countAccepted(n: number): void;
  /** Salesforce token obtainable (readyz). */
  checkSalesforce(): Promise<void>;
}
