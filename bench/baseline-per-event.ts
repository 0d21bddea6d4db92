// The peers' strategy, implemented faithfully as a baseline (reference/salesforce.md "What public
// peers do": Segment's and RudderStack's Salesforce destinations): every webhook is handled on its
// own, in arrival order, with one SOQL lookup by email and one single-record write. No batching, no
// merge of out-of-order events, no de-duplication. (Unlike RudderStack, the email is escaped.)
import express from 'express';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export interface BaselineOptions {
  loginUrl: string;
  clientId: string;
  username: string;
  privateKey: string;
  concurrency: number;
  purposeField: Record<string, { field: string; invert: boolean }>;
}

const esc = (s: string) => "'" + s.replace(/[\\']/g, (c) => '\\' + c) + "'";

export async function startBaseline(o: BaselineOptions) {
  let session: { token: string; url: string } | null = null;
  const login = async () => {
    const assertion = jwt.sign({ iss: o.clientId, sub: o.username, aud: 'https://login.salesforce.com' }, o.privateKey, { algorithm: 'RS256', expiresIn: 180 });
    const r = await fetch(`${o.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    });
    const b = (await r.json()) as any;
    session = { token: b.access_token, url: b.instance_url };
  };
  let calls = 0;
  const sf = async (method: string, path: string, body?: unknown): Promise<any> => {
    if (!session) await login();
    for (let i = 0; i < 5; i++) {
      calls++;
      const r = await fetch(session!.url + path, {
        method,
        headers: { authorization: `Bearer ${session!.token}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (r.status === 401) {
        await login();
        continue;
      }
      if (r.status >= 500) {
        await new Promise((res) => setTimeout(res, 200));
        continue;
      }
      const t = await r.text();
      return t ? JSON.parse(t) : null;
    }
  };
  const queue: any[] = [];
  let active = 0;
  let processed = 0;
  const handle = async (w: any) => {
    const ent = w.parameters?.new_entity ?? w.parameters?.entity;
    const email = ent?.user?.organization_user_id ?? ent?.organization_user_id;
    if (!email) return;
    const fields: Record<string, unknown> = {};
    for (const p of ent.consents?.purposes ?? []) {
      const m = o.purposeField[p.id];
      if (m && typeof p.enabled === 'boolean') fields[m.field] = m.invert ? !p.enabled : p.enabled;
      for (const [, sel] of Object.entries<any>(p.values ?? {})) {
        const ids = String(sel.value).split(',').filter(Boolean).sort();
        fields.Newsletter_Topics__c = ids.length ? ids.map((id) => LABELS[id] ?? id).join(';') : null;
        fields.Weekly_Digest__c = ids.includes('dK7rBBXk');
      }
    }
    const q = await sf('GET', `/services/data/v66.0/query?q=${encodeURIComponent(`SELECT Id FROM Lead WHERE Email = ${esc(email)} LIMIT 1`)}`);
    const id = q?.records?.[0]?.Id;
    if (id) await sf('PATCH', `/services/data/v66.0/sobjects/Lead/${id}`, fields);
    else await sf('POST', '/services/data/v66.0/sobjects/Lead', { ...fields, Email: email, LastName: 'Unknown', Company: 'Unknown' });
  };
  const pump = () => {
    while (active < o.concurrency && queue.length) {
      const w = queue.shift();
      active++;
      handle(w)
        .catch(() => undefined)
        .finally(() => {
          active--;
          processed++;
          pump();
        });
    }
  };
  const app = express();
  app.post('/webhooks/didomi', express.json({ limit: '512kb' }), (req, res) => {
    queue.push(req.body);
    pump();
    res.status(202).json({ status: 'accepted' });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pending: () => queue.length + active,
    processed: () => processed,
    calls: () => calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const LABELS: Record<string, string> = { dK7rBBXk: 'Weekly digest', Qz8hNn3W: 'Offers', mP4tRw2e: 'Events' };
