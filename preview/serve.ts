// `npm run preview:admin`: the admin tab in a real browser with no org. Starts the org emulator with
// demo data, builds the components (preview/build.ts) and serves them with SLDS on 127.0.0.1; calls
// to /services/data are proxied to the emulator with a session from the JWT bearer flow, the way
// Lightning Experience carries the user's session for LDS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import jwt from 'jsonwebtoken';
import { startEmulator, type Emulator } from '../emulator/src/index.ts';
import { CUSTOMER_FIELDS } from '../test/support/org-fixture.ts';
import { rsaKeyPair } from '../test/support/keys.ts';
import { buildPreview, OUT_DIR, ROOT } from './build.ts';

const ADMIN = 'admin@example.com';
const CONSUMER_KEY = 'PREVIEW_CONSUMER_KEY';

export interface Preview {
  url: string;
  emulator: Emulator;
  close(): Promise<void>;
}

/** Demo data: a live heartbeat, a Contact target with one mapping, and dead letters (a few, and 45 of one code). */
export function seedDemo(emu: Emulator, now = Date.now()) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const [contactTarget] = emu.seed({
    Didomi_Sync_Target__c: [
      {
        Name: 'Contact target',
        Object__c: 'Contact',
        Active__c: true,
        Upsert_Mode__c: false,
        Match_Field__c: 'Email',
        Deletion_Behavior__c: 'Clear Consent Fields',
      },
    ],
  }).Didomi_Sync_Target__c;
  emu.seed({
    Didomi_Field_Mapping__c: [
      { Target__c: contactTarget, Kind__c: 'Purpose', Purpose_Id__c: 'marketing', Field_Api_Name__c: 'HasOptedOutOfEmail', Invert__c: true, Active__c: true },
    ],
    Didomi_Sync_Status__c: [
      {
        Name: 'didomi-sync-1',
        Instance_Id__c: 'didomi-sync-1',
        Version__c: '0.1.0',
        Last_Heartbeat__c: iso(now - 20_000),
        Last_Success__c: iso(now - 25_000),
        Events_Accepted_Today__c: 18_204,
        Events_Synced_Today__c: 18_190,
        Events_Failed_Today__c: 4,
        Queue_Depth__c: 10,
        Oldest_Pending_Seconds__c: 1,
        Api_Usage_Used__c: 1_312,
        Api_Usage_Max__c: 100_000,
        Last_Error__c: 'INVALID_EMAIL_ADDRESS: Email: invalid email address: jane@@example',
        Last_Error_At__c: iso(now - 3_600_000),
      },
    ],
    Didomi_Sync_Error__c: [
      ['jane@@example', 'INVALID_EMAIL_ADDRESS', 'Email: invalid email address: jane@@example', 'Open', 3],
      ['max@example.com', 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [Company]', 'Open', 1],
      ['li@example.com', 'STRING_TOO_LONG', 'Consent Country: data value too large: Democratic Republic of... (max length=64)', 'Open', 2],
      ['old@example.com', 'ENTITY_IS_DELETED', 'entity is deleted', 'Dismissed', 1],
    ].map(([user, code, message, status, attempts], i) => ({
      Didomi_User_Id__c: `didomi-${i + 1}`,
      Organization_User_Id__c: user,
      Error_Code__c: code,
      Message__c: message,
      Status__c: status,
      Attempts__c: attempts,
      Target_Object__c: 'Lead',
      Dead_Letter_Key__c: `demo-${i + 1}`,
      First_Failed_At__c: iso(now - (i + 2) * 3_600_000),
      Last_Failed_At__c: iso(now - (i + 1) * 600_000),
    })),
  });
  // A validation rule that blocked a campaign's worth of writes: enough dead letters for several
  // pages and one large group in the queue's counts per code.
  emu.seed({
    Didomi_Sync_Error__c: Array.from({ length: 45 }, (_, i) => ({
      Didomi_User_Id__c: `didomi-vr-${i + 1}`,
      Organization_User_Id__c: `lead${i + 1}@example.com`,
      Error_Code__c: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      Message__c: 'Marketing preferences of this lead are locked by Legal',
      Status__c: 'Open',
      Attempts__c: 1,
      Target_Object__c: i < 30 ? 'Lead' : 'Contact',
      Record_Id__c: `${i < 30 ? '00Q' : '003'}0000000${String(i + 1).padStart(5, '0')}AAA`,
      Dead_Letter_Key__c: `demo-vr-${i + 1}`,
      Payload__c: JSON.stringify({ HasOptedOutOfEmail: true, Didomi_User_Id__c: `lead${i + 1}@example.com` }),
      First_Failed_At__c: iso(now - 2 * 86_400_000),
      Last_Failed_At__c: iso(now - 86_400_000 - i * 60_000),
    })),
  });
}

export interface PreviewOptions {
  port?: number;
  build?: boolean;
  seed?: boolean;
  /** An org emulator already running (the demo's): the preview signs in to it as an admin and leaves it running on close. */
  emulator?: Emulator;
  /** The External Client App's private key and consumer key that emulator trusts. */
  privateKey?: string;
  consumerKey?: string;
}

export async function startPreview({ port = 0, build = true, seed = true, ...org }: PreviewOptions = {}): Promise<Preview> {
  if (build) await buildPreview();
  let emulator = org.emulator;
  let privateKey = org.privateKey;
  const consumerKey = org.consumerKey ?? CONSUMER_KEY;
  const ownEmulator = !emulator;
  if (!emulator) {
    const keys = rsaKeyPair();
    privateKey = keys.privateKey;
    emulator = await startEmulator({
      publicKey: keys.publicKey,
      consumerKey,
      username: ADMIN,
      permissionSets: ['Didomi_Sync_Admin'],
      profile: 'System Administrator', // the admin sees every field; the integration user's profile grants none
      extraFields: CUSTOMER_FIELDS,
    });
    if (seed) seedDemo(emulator);
  } else {
    emulator.org.addUser(ADMIN, ['Didomi_Sync_Admin'], true, 'System Administrator');
  }
  if (!privateKey) throw new Error('preview: the private key of the app the emulator trusts is required');
  const assertion = jwt.sign({ iss: consumerKey, sub: ADMIN, aud: 'https://login.salesforce.com' }, privateKey, { algorithm: 'RS256', expiresIn: 180 });
  const tokenRes = await fetch(`${emulator.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
  });
  if (!tokenRes.ok) throw new Error(`preview: the emulator refused the session (${tokenRes.status})`);
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const emu = emulator;

  const app = express();
  const index = readFileSync(join(ROOT, 'preview/index.html'), 'utf8');
  app.get('/', (_req, res) => void res.type('html').send(index));
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());
  app.use('/build', express.static(OUT_DIR));
  app.use('/slds', express.static(join(ROOT, 'node_modules/@salesforce-ux/design-system/assets')));
  app.use('/services/data', express.raw({ type: () => true, limit: '10mb' }), async (req, res) => {
    const upstream = await fetch(`${emu.url}/services/data${req.url}`, {
      method: req.method,
      headers: { authorization: `Bearer ${token}`, 'content-type': req.get('content-type') ?? 'application/json' },
      body: ['GET', 'HEAD', 'DELETE'].includes(req.method) ? undefined : (req.body as Buffer),
    }).catch(() => null);
    if (!upstream) return void res.status(502).json([{ errorCode: 'UNAVAILABLE', message: 'the org emulator did not answer' }]);
    res.status(upstream.status).type(upstream.headers.get('content-type') ?? 'application/json');
    res.send(Buffer.from(await upstream.arrayBuffer()));
  });
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    emulator: emu,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownEmulator) await emu.close();
    },
  };
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 4173);
  const preview = await startPreview({ port });
  console.log(`admin tab preview: ${preview.url}  (org emulator: ${preview.emulator.url}; Ctrl+C to stop)`);
  const stop = () => void preview.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
