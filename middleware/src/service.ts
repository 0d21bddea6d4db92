// Wires the service: store, metrics, sync engine and HTTP. Used by the bin, tests, demo and bench.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createHttpApp } from './http/app.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/types.ts';
import { createSyncEngine } from './sync/engine.ts';
import { startRetention } from './sync/retention.ts';
import type { SyncEngine } from './sync/engine-types.ts';
import type { SyncClients } from './sync/clients.ts';
import type { Metrics } from './observability/metrics.ts';
import { JwtBearerAuth } from './salesforce/auth.ts';
import { ApiBudget } from './salesforce/budget.ts';
import { SalesforceClient } from './salesforce/client.ts';
import { DidomiApi } from './didomi/api-client.ts';

export interface Service {
  app: ReturnType<typeof createHttpApp>;
  store: Store;
  engine: SyncEngine;
  logger: Logger;
  /** Resolves once listening; the sync starts beside it (see started). */
  listen(port?: number, host?: string): Promise<{ url: string }>;
  /** Resolves when the sync's first configuration read, heartbeat and housekeeping runs have ended (after listen). */
  started(): Promise<void>;
  stop(): Promise<void>;
}

export async function createService(config: Config, opts: { logger?: Logger; now?: () => number; store?: Store } = {}): Promise<Service> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const store = opts.store ?? (await openStore(config));
  await store.migrate();
  const metrics = createMetrics();
  const clients = await buildClients(config, metrics, opts.now ?? Date.now);
  const engine = createSyncEngine({ config, store, logger, metrics, clients, now: opts.now });
  let draining = false;
  const app = createHttpApp({ config, store, engine, metrics, logger, isDraining: () => draining, now: opts.now });
  let server: Server | null = null;
  let startup: Promise<void> | null = null;
  let retention: { stop(): Promise<void> } | null = null;
  return {
    app,
    store,
    engine,
    logger,
    async listen(port = config.PORT, host = config.HOST) {
      server = app.listen(port, host);
      await new Promise<void>((resolve, reject) => {
        server!.once('listening', resolve);
        server!.once('error', reject);
      });
      const a = server.address() as AddressInfo;
      const url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      // Webhooks are accepted from here on, even while the first configuration read waits on a slow org
      // (up to the client's timeout): the sync starts beside the server, not before it.
      logger.info({ url, store: store.engine }, 'didomi-sync listening');
      if (!startup) {
        startup = engine.start().then(() => logger.info('didomi-sync started: first configuration read, heartbeat and housekeeping runs done'));
        retention = startRetention({ store, retentionDays: config.RETENTION_DAYS, everyMs: config.PRUNE_EVERY_MS, logger, now: opts.now });
      }
      return { url };
    },
    async started() {
      if (!startup) throw new Error('started() before listen()');
      await startup;
    },
    async stop() {
      // Stop accepting (503 for new webhooks while draining), finish or release in-flight work, close the store.
      draining = true;
      const closed = server ? new Promise<void>((r) => server!.close(() => r())) : Promise.resolve();
      server?.closeIdleConnections();
      await engine.stop(config.SHUTDOWN_GRACE_MS);
      await retention?.stop();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      server?.closeAllConnections();
      await store.close();
    },
  };
}

/** The Salesforce client (JWT bearer session, API budget, metrics hooks) and, when configured, the Didomi API client. */
export async function buildClients(c: Config, metrics: Metrics, now: () => number): Promise<SyncClients> {
  const auth = new JwtBearerAuth({
    loginUrl: c.SF_LOGIN_URL,
    clientId: c.SF_CLIENT_ID,
    username: c.SF_USERNAME,
    privateKey: c.privateKey,
    audience: c.audience,
    timeoutMs: c.SF_REQUEST_TIMEOUT_MS,
    now,
  });
  const budget = new ApiBudget(c.API_BUDGET_SHARE, now, Math.max(100, 60_000 * c.RETRY_BACKOFF_SCALE));
  const salesforce = new SalesforceClient({
    auth,
    budget,
    apiVersion: c.SF_API_VERSION,
    timeoutMs: c.SF_REQUEST_TIMEOUT_MS,
    hooks: {
      onCall: (resource, status) => metrics.sfApiCalls.inc({ resource, status: String(status) }),
      onBudgetWait: () => metrics.sfBudgetWaits.inc(),
      onLimitInfo: (used, max) => {
        metrics.sfApiUsed.set(used);
        metrics.sfApiMax.set(max);
      },
    },
  });
  const didomi =
    c.DIDOMI_API_KEY && c.DIDOMI_API_SECRET && c.DIDOMI_ORGANIZATION_ID
      ? new DidomiApi({
          baseUrl: c.DIDOMI_API_URL,
          apiKey: c.DIDOMI_API_KEY,
          apiSecret: c.DIDOMI_API_SECRET,
          organizationId: c.DIDOMI_ORGANIZATION_ID,
          timeoutMs: c.SF_REQUEST_TIMEOUT_MS,
        })
      : null;
  // Built only when it will be used: the gRPC channel is opened by the constructor, and gRPC, protobufjs
  // and avsc (about 12 MB, issue 17) are not even loaded otherwise.
  const pubsub = didomi && c.REVERSE_MODE === 'cdc' ? new (await import('./salesforce/pubsub-client.ts')).PubSubClient(c.PUBSUB_URL, auth) : null;
  return { salesforce, budget, checkSession: async () => void (await auth.get()), didomi, pubsub };
}
