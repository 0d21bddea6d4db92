// The HTTP surface: OAuth token, webhook, health, readiness and metrics. Every error is JSON.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/types.ts';
import type { SyncEngine } from '../sync/engine-types.ts';
import { oauthRouter } from './oauth.ts';
import { webhookRouter } from './webhook.ts';

export interface AppDeps {
  config: Config;
  store: Store;
  engine: SyncEngine;
  metrics: Metrics;
  logger: Logger;
  isDraining: () => boolean;
  /** Injectable clock (token throttling). */
  now?: () => number;
}

export function createHttpApp(d: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: every answer is a one-off (a webhook acknowledgement, a token, a health check), never
  // revalidated; hashing each body was part of the 10.6 % res.json took per accepted webhook (issue 17).
  app.disable('etag');
  app.set('trust proxy', d.config.TRUST_PROXY_HOPS);
  // The webhook first: it is nearly every request, and no other route shares its path.
  app.use(webhookRouter(d));
  app.use(oauthRouter(d.config, d.metrics, d.now));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    await d.store.ping().then(
      () => {
        checks.store = 'ok';
      },
      (e) => {
        checks.store = (e as Error).message;
      },
    );
    await d.engine.checkSalesforce().then(
      () => {
        checks.salesforce = 'ok';
      },
      (e) => {
        checks.salesforce = (e as Error).message;
      },
    );
    const ready = Object.values(checks).every((v) => v === 'ok') && !d.isDraining();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const s = await d.store.stats();
      d.metrics.queueDepth.set(s.pendingEvents);
      d.metrics.queueOldestAge.set(s.oldestPendingAt ? (Date.now() - Date.parse(s.oldestPendingAt)) / 1000 : 0);
    } catch {
      /* metrics still answer when the store is down */
    }
    res.set('content-type', d.metrics.registry.contentType).send(await d.metrics.registry.metrics());
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'no such endpoint' });
  });
  // Malformed JSON, oversized bodies and anything unexpected: a JSON error, never an HTML page.
  app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.type === 'entity.too.large' ? 413 : err.type === 'entity.parse.failed' ? 400 : err.status && err.status < 500 ? err.status : 500;
    const reason = err.type === 'entity.too.large' ? 'too_large' : err.type === 'entity.parse.failed' ? 'malformed_json' : 'error';
    d.metrics.eventsRejected.inc({ reason });
    if (status >= 500) d.logger.error({ err: err.message }, 'request failed');
    res.status(status).json({
      error: reason === 'error' ? (status >= 500 ? 'internal_error' : 'bad_request') : reason,
      message: status >= 500 ? 'internal error' : err.message,
    });
  });
  return app;
}
