// A stand-in for Didomi's Consents API (reference/didomi.md "Consents API"): POST /sessions with an
// API key gives a bearer token; POST /consents/events?organization_id= records what it is sent.
// Tests can expire tokens (the next call gets 401) and make it unavailable (503).
import express from 'express';
import type { AddressInfo } from 'node:net';

export interface DidomiApiStub {
  url: string;
  events: { organizationId: string; body: any }[];
  logins: number;
  expireTokens(): void;
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function startDidomiApiStub(o: { key: string; secret: string; organizationId: string }): Promise<DidomiApiStub> {
  const app = express();
  app.use(express.json());
  let valid = new Set<string>();
  let failures = 0;
  const stub: DidomiApiStub = {
    url: '',
    events: [],
    logins: 0,
    expireTokens: () => void (valid = new Set()),
    failNext: (n) => void (failures = n),
    close: async () => undefined,
  };
  app.post('/sessions', (req, res) => {
    if (req.body?.type !== 'api-key' || req.body.key !== o.key || req.body.secret !== o.secret)
      return void res.status(401).json({ message: 'Invalid credentials' });
    const token = `tok-${++stub.logins}`;
    valid.add(token);
    res.status(201).json({ access_token: token });
  });
  app.post('/consents/events', (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!token || !valid.has(token)) return void res.status(401).json({ message: 'jwt expired' });
    if (failures > 0) {
      failures--;
      return void res.status(503).json({ message: 'Service Unavailable' });
    }
    if (req.query.organization_id !== o.organizationId) return void res.status(403).json({ message: 'unknown organization' });
    if (!req.body?.user?.organization_user_id || !Array.isArray(req.body?.consents?.purposes)) return void res.status(400).json({ message: 'invalid event' });
    stub.events.push({ organizationId: String(req.query.organization_id), body: req.body });
    res.status(201).json({ id: `ev-${stub.events.length}`, ...req.body });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () => new Promise<void>((r) => server.close(() => r()));
  return stub;
}
