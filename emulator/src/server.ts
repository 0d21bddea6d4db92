// HTTP front: OAuth, the REST API with limits and faults, and the /__emulator control API.
import express, { type Request, type Response, type NextFunction } from 'express';
import { ApiError } from './errors.ts';
import { RestApi } from './rest.ts';
import type { Org, SfRecord, ValidationRule } from './org.ts';
import type { OAuthServer } from './oauth.ts';
import { createUiApiRouter } from './ui-api/router.ts';
import { mangled, MANGLE_MODES, writesRecords, type MangleMode } from './mangle.ts';

export const MAX_URI_BYTES = 16_384; // reference/salesforce.md: request URI at most 16,384 bytes

export interface Faults {
  latencyMs: number;
  latencyJitterMs: number;
  outage: 'off' | '503' | 'refuse';
  lockRowShare: number;
  validationRules: ValidationRule[];
  limitExhausted: boolean;
  /** Test-only (mangle.ts): damage successful write responses; `mangleCount` > 0 limits it to the next N. */
  mangle: MangleMode;
  mangleCount: number;
  /** The next N requests that write anything have their write applied, then the connection dropped with no response. */
  dropWriteResponses: number;
  /** Test-only: REST requests wait unanswered (counted in inFlight) until hold is set back to false. */
  hold: boolean;
}

export interface Counters {
  total: number;
  byResource: Record<string, number>;
  used: number;
  max: number;
  tokens: number;
  /** Responses dropped after their write was applied (faults.dropWriteResponses). */
  droppedResponses: number;
  /** REST requests received and not yet answered (waiting out latency included). */
  inFlight: number;
  /** REST requests the client gave up on (closed the connection) before they were answered, e.g. its timeout. */
  abandoned: number;
}

export interface ServerState {
  org: Org;
  oauth: OAuthServer;
  faults: Faults;
  counters: Counters;
  apiVersions: string[];
  baseUrl: () => string;
  onFaultsChanged: (f: Faults) => void;
  seed: (records: Record<string, SfRecord[]>) => Record<string, string[]>;
  reset: () => void;
  /** Moves the emulator's clock (sessions) forward; returns the new time in ms. */
  advanceClock: (ms: number) => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const limitInfo = (c: Counters) => `api-usage=${c.used}/${c.max}`;

export function createApp(state: ServerState) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const rest = new RestApi(state.org, () => state.counters);

  // ---------- control API (never under /services) ----------
  const control = express.Router();
  control.use(express.json({ limit: '200mb' }));
  control.get('/stats', (_req, res) => {
    const records: Record<string, number> = {};
    for (const [, t] of state.org.tables) if (t.def.name !== 'User') records[t.def.name] = t.rows.size;
    res.json({
      apiCalls: { total: state.counters.total, byResource: state.counters.byResource },
      tokens: state.counters.tokens,
      records,
      apiUsage: { used: state.counters.used, max: state.counters.max },
      droppedResponses: state.counters.droppedResponses,
      inFlight: state.counters.inFlight,
      abandoned: state.counters.abandoned,
      faults: state.faults,
    });
  });
  control.post('/reset', (_req, res) => {
    state.reset();
    res.json({ ok: true });
  });
  control.post('/seed', (req, res) => {
    try {
      res.json({ ids: state.seed(req.body?.records ?? {}) });
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
    }
  });
  control.get('/records/:sobject', (req, res) => {
    const t = state.org.tables.get(req.params.sobject.toLowerCase());
    if (!t) return void res.status(404).json({ error: `unknown object ${req.params.sobject}` });
    res.json({ records: [...t.rows.values()] });
  });
  control.get('/writes', (req, res) => {
    const since = req.query.since ? Date.parse(String(req.query.since)) || Number(req.query.since) : 0;
    const log = state.org.writeLog;
    let lo = 0,
      hi = log.length; // the log is in time order: binary search the start
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log[mid].at < since) lo = mid + 1;
      else hi = mid;
    }
    res.json({ writes: log.slice(lo) });
  });
  control.get('/rejections', (_req, res) => {
    res.json({ rejections: state.org.rejectLog });
  });
  control.post('/faults', (req, res) => {
    const b = req.body ?? {};
    const f = { ...state.faults };
    if (b.latencyMs !== undefined) f.latencyMs = Number(b.latencyMs);
    if (b.latencyJitterMs !== undefined) f.latencyJitterMs = Number(b.latencyJitterMs);
    if (b.outage !== undefined) f.outage = b.outage;
    if (b.lockRowShare !== undefined) f.lockRowShare = Number(b.lockRowShare);
    if (b.validationRules !== undefined) f.validationRules = b.validationRules;
    if (b.limitExhausted !== undefined) f.limitExhausted = !!b.limitExhausted;
    if (b.mangle !== undefined) f.mangle = b.mangle;
    if (b.mangleCount !== undefined) f.mangleCount = Number(b.mangleCount);
    if (b.dropWriteResponses !== undefined) f.dropWriteResponses = Number(b.dropWriteResponses);
    if (b.hold !== undefined) f.hold = !!b.hold;
    if (!['off', '503', 'refuse'].includes(f.outage)) return void res.status(400).json({ error: 'outage must be off, 503 or refuse' });
    if (!MANGLE_MODES.includes(f.mangle)) return void res.status(400).json({ error: `mangle must be one of ${MANGLE_MODES.join(', ')}` });
    res.json({ faults: f });
    state.onFaultsChanged(f);
  });
  control.post('/clock', (req, res) => {
    const ms = Number(req.body?.advanceMs);
    if (!Number.isFinite(ms) || ms < 0) return void res.status(400).json({ error: 'advanceMs must be a number >= 0' });
    res.json({ now: state.advanceClock(ms) });
  });
  control.post('/sessions/revoke', (_req, res) => res.json({ revoked: state.oauth.revokeAll() }));
  control.post('/users', (req, res) => {
    const { username, active = true, permissionSets = ['Didomi_Sync_Integration'], profile } = req.body ?? {};
    if (typeof username !== 'string') return void res.status(400).json({ error: 'username required' });
    res.json(state.org.addUser(username, permissionSets, active, profile));
  });
  control.post('/api-usage', (req, res) => {
    if (req.body?.used !== undefined) state.counters.used = Number(req.body.used);
    if (req.body?.max !== undefined) state.counters.max = Number(req.body.max);
    res.json({ used: state.counters.used, max: state.counters.max });
  });
  app.use('/__emulator', control);

  // ---------- OAuth ----------
  app.post('/services/oauth2/token', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    if (state.faults.outage === '503') return void res.status(503).json({ error: 'server_unavailable', error_description: 'Server unavailable' });
    state.counters.tokens++;
    const r = state.oauth.token(req.body ?? {});
    res.status(r.status).json(r.body);
  });

  // ---------- REST ----------
  app.get('/services/data', (_req, res) => {
    res.json(state.apiVersions.map((v) => ({ label: `v${v}`, url: `/services/data/v${v}`, version: v })));
  });

  const guard = async (req: Request, res: Response, next: NextFunction) => {
    state.counters.inFlight++;
    res.once('close', () => {
      state.counters.inFlight--;
      if (!res.writableFinished) state.counters.abandoned++;
    });
    const f = state.faults;
    if (f.latencyMs || f.latencyJitterMs) await sleep(f.latencyMs + Math.random() * f.latencyJitterMs);
    while (state.faults.hold) await sleep(5); // a call in flight for as long as the test needs, whatever the machine's speed
    if (f.outage === '503') return void res.status(503).json([{ message: 'Server is temporarily unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);
    if (Buffer.byteLength(req.originalUrl) > MAX_URI_BYTES) return void res.status(414).json([{ message: 'Request-URI Too Large', errorCode: 'URI_TOO_LONG' }]);
    const session = state.oauth.session(req.headers.authorization);
    if (!session) return void res.status(401).json([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    res.setHeader('Sforce-Limit-Info', limitInfo(state.counters));
    if (f.limitExhausted || state.counters.used >= state.counters.max) {
      return void res.status(403).json([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    }
    state.counters.used++;
    state.counters.total++;
    res.setHeader('Sforce-Limit-Info', limitInfo(state.counters));
    res.locals.user = session.user;
    next();
  };
  const json = express.json({ limit: '50mb', type: () => true });
  app.use(
    '/services/data/:version',
    (req, res, next) => {
      const v = /^v(\d+\.\d)$/.exec(String(req.params.version));
      if (!v || !state.apiVersions.includes(v[1]))
        return void res.status(404).json([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
      res.locals.version = v[1];
      next();
    },
    guard,
    (req, res, next) => (req.method === 'GET' || req.method === 'DELETE' ? next() : json(req, res, next)),
  );
  app.use('/services/data/:version', createUiApiRouter(state.org));
  app.use('/services/data/:version', (req, res) => {
    const resource = RestApi.resource(req.path);
    state.counters.byResource[resource] = (state.counters.byResource[resource] ?? 0) + 1;
    try {
      const url = new URL(req.originalUrl, 'http://x');
      const dispatch = (body: unknown) =>
        rest.dispatch(
          { method: req.method, path: req.path, query: url.searchParams, body, headers: req.headers as Record<string, string> },
          res.locals.user,
          res.locals.version,
        );
      const f = state.faults;
      if (f.mangle !== 'off' && writesRecords(resource, req.method, req.body)) {
        const damaged = mangled(f.mangle, resource, req.body, (b) => dispatch(b).body);
        if (f.mangleCount > 0 && --f.mangleCount === 0) f.mangle = 'off';
        if (typeof damaged === 'string') return void res.status(200).type('text/html').send(damaged);
        return void res.status(200).json(damaged);
      }
      const writesBefore = state.org.writeLog.length;
      const r = dispatch(req.body);
      // A response lost after Salesforce committed the write (network cut, proxy timeout): the client cannot know it landed.
      if (f.dropWriteResponses > 0 && state.org.writeLog.length > writesBefore) {
        f.dropWriteResponses--;
        state.counters.droppedResponses++;
        return void req.socket.destroy();
      }
      if (r.body === undefined) res.status(r.status).end();
      else res.status(r.status).json(r.body);
    } catch (e) {
      if (e instanceof ApiError) return void res.status(e.status).json(e.body());
      res.status(500).json([{ message: `emulator error: ${(e as Error).message}`, errorCode: 'UNKNOWN_EXCEPTION' }]);
    }
  });

  // Salesforce answers malformed JSON with JSON_PARSER_ERROR.
  app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.parse.failed')
      return void res.status(400).json([{ message: `Unexpected character: ${err.message}`, errorCode: 'JSON_PARSER_ERROR' }]);
    if (err.type === 'entity.too.large') return void res.status(413).json([{ message: 'Request entity too large', errorCode: 'REQUEST_TOO_LARGE' }]);
    res.status(err.status ?? 500).json([{ message: err.message, errorCode: 'UNKNOWN_EXCEPTION' }]);
  });
  app.use((_req, res) => res.status(404).json([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]));
  return app;
}
