// POST /webhooks/didomi: authenticated, validated, de-duplicated, durably stored, then 202.
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/types.ts';
import { StoreUnavailableError } from '../store/types.ts';
import type { SyncEngine } from '../sync/engine-types.ts';
import { parseWebhook, toNewEvent, WebhookValidationError } from '../didomi/schema.ts';
import { verifyWebhookToken } from './oauth.ts';
import { ipAllowed } from './ip-allowlist.ts';

export interface WebhookDeps {
  config: Config;
  store: Store;
  engine: SyncEngine;
  metrics: Metrics;
  logger: Logger;
  isDraining: () => boolean;
}

// The two acknowledgements, serialised once: what res.json would send, without its per-call
// stringify and Content-Type/charset handling on every accepted webhook (issue 17).
const ack = (duplicate: boolean) => Buffer.from(JSON.stringify({ status: 'accepted', duplicate }));
const ACK = { new: ack(false), duplicate: ack(true) };
const JSON_TYPE = 'application/json; charset=utf-8';

export function webhookRouter(d: WebhookDeps): Router {
  const r = express.Router();
  const reject = (res: express.Response, status: number, reason: string, body: Record<string, unknown>) => {
    d.metrics.eventsRejected.inc({ reason });
    d.logger.info({ status, reason }, 'webhook rejected');
    res.status(status).json(body);
  };
  r.post(
    '/webhooks/didomi',
    (req, res, next) => {
      if (d.isDraining()) return reject(res, 503, 'draining', { error: 'unavailable', message: 'shutting down; retry shortly' });
      if (d.config.allowedIps.length && !ipAllowed(req.ip ?? '', d.config.allowedIps))
        return reject(res, 403, 'ip', { error: 'forbidden', message: 'source address not allowed' });
      const authProblem = verifyWebhookToken(d.config, req.headers.authorization);
      if (authProblem) {
        res.set('www-authenticate', 'Bearer realm="didomi-consent-sync", error="invalid_token"');
        return reject(res, 401, 'auth', { error: 'invalid_token', message: authProblem });
      }
      if (!req.is('application/json')) return reject(res, 415, 'content_type', { error: 'unsupported_media_type', message: 'send application/json' });
      next();
    },
    express.json({ limit: d.config.MAX_BODY_BYTES, strict: true }),
    async (req, res) => {
      let event;
      try {
        event = toNewEvent(parseWebhook(req.body));
      } catch (e) {
        if (e instanceof WebhookValidationError) return reject(res, 400, 'schema', { error: 'invalid_payload', message: e.message, details: e.details });
        return reject(res, 400, 'schema', { error: 'invalid_payload', message: 'unreadable payload' });
      }
      try {
        const { stored } = await d.store.append([event]);
        if (stored[0]) {
          d.metrics.eventsAccepted.inc({ type: event.type });
          d.engine.countAccepted(1);
          d.engine.notify(1, event.userKey);
        } else d.metrics.eventsDuplicate.inc();
        const body = stored[0] ? ACK.new : ACK.duplicate;
        res.writeHead(202, { 'Content-Type': JSON_TYPE, 'Content-Length': body.length }).end(body);
      } catch (e) {
        if (e instanceof StoreUnavailableError) {
          d.logger.error({ err: e.message }, 'store unavailable: webhook refused so Didomi retries');
          d.metrics.eventsRejected.inc({ reason: 'store' });
          return void res.status(503).set('retry-after', '30').json({ error: 'unavailable', message: 'cannot store the event right now; retry later' });
        }
        throw e;
      }
    },
  );
  return r;
}
