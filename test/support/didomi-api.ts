// A stand-in for Didomi's Consents API (reference/didomi.md "Consents API"): POST /sessions with an
// API key gives a bearer token; POST /consents/events?organization_id= records what it is sent.
// Tests can expire tokens (the next call gets 401) and make it unavailable (503).
// It also serves a catalogue: GET /metadata/purposes and GET /preferences?organization_id=, paged
// as Didomi pages ({ total, limit, skip, data }, $limit/$skip; at most PAGE_MAX a page, so a client
// must follow the pages), with names as Didomi returns them (a string, or { en, fr, ... }).
import express from 'express';
import type { AddressInfo } from 'node:net';

export interface CatalogueStub {
  purposes: Record<string, unknown>[];
  preferences: Record<string, unknown>[];
}
const PAGE_MAX = 50;

export interface DidomiApiStub {
  url: string;
  catalogue: CatalogueStub;
  /** GET requests served, by path. */
  reads: Record<string, number>;
  events: { organizationId: string; body: any }[];
  logins: number;
  expireTokens(): void;
  failNext(n: number): void;
  /** While true, POST /consents/events records the event, then holds its answer (a slow Didomi, for as long as a test needs). */
  holdAnswers: boolean;
  close(): Promise<void>;
}

export async function startDidomiApiStub(o: { key: string; secret: string; organizationId: string; catalogue?: CatalogueStub }): Promise<DidomiApiStub> {
  const app = express();
  app.use(express.json());
  let valid = new Set<string>();
  let failures = 0;
  const stub: DidomiApiStub = {
    url: '',
    catalogue: o.catalogue ?? { purposes: [], preferences: [] },
    reads: {},
    events: [],
    logins: 0,
    expireTokens: () => void (valid = new Set()),
    failNext: (n) => void (failures = n),
    holdAnswers: false,
    close: async () => undefined,
  };
  app.post('/sessions', (req, res) => {
    if (req.body?.type !== 'api-key' || req.body.key !== o.key || req.body.secret !== o.secret)
      return void res.status(401).json({ message: 'Invalid credentials' });
    const token = `tok-${++stub.logins}`;
    valid.add(token);
    res.status(201).json({ access_token: token });
  });
  const list = (items: () => Record<string, unknown>[]) => (req: express.Request, res: express.Response) => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!token || !valid.has(token)) return void res.status(401).json({ message: 'jwt expired' });
    if (failures > 0) {
      failures--;
      return void res.status(503).json({ message: 'Service Unavailable' });
    }
    if (req.query.organization_id !== o.organizationId) return void res.status(403).json({ message: 'unknown organization' });
    stub.reads[req.path] = (stub.reads[req.path] ?? 0) + 1;
    const all = items();
    const limit = Math.min(PAGE_MAX, Number(req.query.$limit ?? PAGE_MAX) || PAGE_MAX);
    const skip = Number(req.query.$skip ?? 0) || 0;
    res.json({ total: all.length, limit, skip, data: all.slice(skip, skip + limit) });
  };
  app.get(
    '/metadata/purposes',
    list(() => stub.catalogue.purposes),
  );
  app.get(
    '/preferences',
    list(() => stub.catalogue.preferences),
  );
  app.post('/consents/events', async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!token || !valid.has(token)) return void res.status(401).json({ message: 'jwt expired' });
    if (failures > 0) {
      failures--;
      return void res.status(503).json({ message: 'Service Unavailable' });
    }
    if (req.query.organization_id !== o.organizationId) return void res.status(403).json({ message: 'unknown organization' });
    // A user is named by the customer's organization_user_id or by Didomi's own user id (`user.id`).
    const user = req.body?.user;
    if (!(user?.organization_user_id || user?.id) || !Array.isArray(req.body?.consents?.purposes))
      return void res.status(400).json({ message: 'invalid event' });
    stub.events.push({ organizationId: String(req.query.organization_id), body: req.body });
    while (stub.holdAnswers) await new Promise((r) => setTimeout(r, 5));
    res.status(201).json({ id: `ev-${stub.events.length}`, ...req.body });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () => new Promise<void>((r) => server.close(() => r()));
  return stub;
}
