// startEmulator(options): a local stand-in for the Salesforce APIs Didomi Consent Sync uses.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { loadSchema, type ExtraFieldSpec, type ExtraPermissionSets } from './schema.ts';
import { withoutConsentModel } from './consent-model-schema.ts';
import { Org, type SfRecord } from './org.ts';
import { OAuthServer, publicKeyFrom } from './oauth.ts';
import { createApp, type Faults, type Counters } from './server.ts';
import { ChangeEventBus } from './pubsub/change-events.ts';
import { startPubSubServer, type PubSubServer } from './pubsub/grpc-server.ts';

export { Org } from './org.ts';
export type { SfRecord, WriteLogEntry, ValidationRule } from './org.ts';
export type { Faults } from './server.ts';
export type { ExtraPermissionSets } from './schema.ts';
export type { PubSubServer } from './pubsub/grpc-server.ts';
export { ERROR_CODES as PUBSUB_ERROR_CODES } from './pubsub/grpc-server.ts';

export const DEFAULT_FORCE_APP = resolve(dirname(fileURLToPath(import.meta.url)), '../../force-app');
export const JWT_AUDIENCES = ['https://login.salesforce.com', 'https://test.salesforce.com'];
export const DEFAULT_API_VERSIONS = ['60.0', '61.0', '62.0', '63.0', '64.0', '65.0', '66.0'];

export interface EmulatorOptions {
  port?: number;
  host?: string;
  consumerKey?: string;
  /** X.509 certificate (PEM) of the External Client App, or a bare public key (PEM). */
  certificate?: string;
  publicKey?: string;
  username?: string;
  permissionSets?: string[];
  /** Who the app pre-authorizes (its "Admin approved users are pre-authorized" policy); others get invalid_grant.
   *  Default: the Didomi_Sync_Integration permission set and the System Administrator profile. */
  preAuthorized?: { permissionSets?: string[]; profiles?: string[] };
  /** The user's profile: 'Minimum Access - API Only Integrations' (default, no field access) or 'System Administrator'. */
  profile?: string;
  sessionSeconds?: number;
  dailyApiLimit?: number;
  apiVersions?: string[];
  /** Experience Cloud site URLs accepted as JWT `aud`, besides https://login.salesforce.com and https://test.salesforce.com.
   *  The emulator's own URL (a My Domain stand-in) is not: Salesforce refuses it. */
  audiences?: string[];
  dataFile?: string;
  forceAppDir?: string;
  /** The customer's own fields (an org always has some): { Lead: [{ name: 'Topics__c', type: 'multipicklist', values: [...] }] } */
  extraFields?: Record<string, ExtraFieldSpec[]>;
  /** The emulator's clock (sessions, assertion expiry); tests inject one or move it with advanceClock. */
  now?: () => number;
  /** The org's own permission sets, to assign through `permissionSets`: { Consent_Fields: { 'Lead.DoNotCall': 'edit' } }. */
  extraPermissionSets?: ExtraPermissionSets;
  /** false: an org without Data Protection and Privacy (no Individual, DataUsePurpose, ContactPointTypeConsent). */
  dataProtection?: boolean;
  /** The Pub/Sub API stand-in (gRPC) with change events of the objects selected for Change Data Capture
   *  (default Lead, Contact, Account); false: none, as in an org whose CDC entity allowance is full. */
  pubsub?: false | { port?: number; entities?: string[]; keepaliveMs?: number };
}

export interface Emulator {
  url: string;
  port: number;
  org: Org;
  /** The Pub/Sub API stand-in (null when disabled); its url is grpc://host:port (plaintext, unlike Salesforce's TLS endpoint). */
  pubsub: PubSubServer | null;
  close(): Promise<void>;
  setFaults(f: Partial<Faults>): Promise<Faults>;
  stats(): {
    apiCalls: { total: number; byResource: Record<string, number> };
    apiUsage: { used: number; max: number };
    tokens: number;
    droppedResponses: number;
    inFlight: number;
    abandoned: number;
  };
  seed(records: Record<string, SfRecord[]>): Record<string, string[]>;
  revokeSessions(): number;
  /** Moves the emulator's clock forward (e.g. past a session's end) without waiting; returns the new time. */
  advanceClock(ms: number): number;
  reset(): void;
  save(): void;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const schema = loadSchema(options.forceAppDir ?? DEFAULT_FORCE_APP, options.extraFields, options.extraPermissionSets);
  if (options.dataProtection === false) withoutConsentModel(schema);
  const org = new Org(schema);
  const username = options.username ?? 'integration@example.com';
  org.addUser(username, options.permissionSets ?? ['Didomi_Sync_Integration'], true, options.profile);
  if (options.dataFile && existsSync(options.dataFile)) org.load(JSON.parse(readFileSync(options.dataFile, 'utf8')));
  const keyPem = options.certificate ?? options.publicKey;
  if (!keyPem) throw new Error('startEmulator: a certificate or publicKey (PEM) is required to verify JWT bearer assertions');
  const host = options.host ?? '127.0.0.1';
  let port = options.port ?? 0;
  let url = '';
  const noFaults = (): Faults => ({
    latencyMs: 0,
    latencyJitterMs: 0,
    outage: 'off',
    lockRowShare: 0,
    validationRules: [],
    limitExhausted: false,
    mangle: 'off',
    mangleCount: 0,
    dropWriteResponses: 0,
    hold: false,
  });
  const faults: Faults = noFaults();
  const counters: Counters = {
    total: 0,
    byResource: {},
    used: 0,
    max: options.dailyApiLimit ?? 15_000,
    tokens: 0,
    droppedResponses: 0,
    inFlight: 0,
    abandoned: 0,
  };
  let clockOffset = 0;
  const now = () => (options.now ?? Date.now)() + clockOffset;
  org.now = now;
  const advanceClock = (ms: number) => {
    clockOffset += ms;
    return now();
  };
  const oauth = new OAuthServer(org, {
    consumerKey: options.consumerKey ?? 'DEV_CONSUMER_KEY',
    publicKey: publicKeyFrom(keyPem),
    sessionSeconds: options.sessionSeconds ?? 7200,
    // Salesforce Help "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration": aud is login, test or an Experience Cloud site URL.
    audiences: () => [...JWT_AUDIENCES, ...(options.audiences ?? [])].map((a) => a.replace(/\/$/, '')),
    instanceUrl: () => url,
    now,
    preAuthorized: {
      permissionSets: options.preAuthorized?.permissionSets ?? ['Didomi_Sync_Integration'],
      profiles: options.preAuthorized?.profiles ?? ['System Administrator'],
    },
  });

  const sockets = new Set<Socket>();
  let listening = false;
  const listen = () =>
    new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, host, () => {
        server.off('error', rej);
        listening = true;
        res();
      });
    });
  const stopListening = () =>
    new Promise<void>((res) => {
      if (!listening) return res();
      listening = false;
      server.close(() => res());
      for (const s of sockets) s.destroy();
    });

  const applyFaults = async (f: Faults) => {
    const wasRefusing = faults.outage === 'refuse';
    Object.assign(faults, f);
    org.faults = { lockRowShare: f.lockRowShare, validationRules: f.validationRules };
    if (f.outage === 'refuse' && !wasRefusing) await stopListening();
    if (f.outage !== 'refuse' && !listening) await listen();
  };
  const seed = (records: Record<string, SfRecord[]>) => {
    const ids: Record<string, string[]> = {};
    org.transaction(() => {
      for (const [obj, rows] of Object.entries(records)) ids[obj] = rows.map((r) => org.create(null, obj, r, { trusted: true }));
    });
    return ids;
  };
  const reset = () => {
    org.reset();
    Object.assign(faults, noFaults());
    counters.total = 0;
    counters.droppedResponses = 0;
    counters.abandoned = 0;
    counters.byResource = {};
    counters.used = 0;
    counters.tokens = 0;
  };

  const app = createApp({
    org,
    oauth,
    faults,
    counters,
    apiVersions: options.apiVersions ?? DEFAULT_API_VERSIONS,
    baseUrl: () => url,
    onFaultsChanged: (f) => void applyFaults(f),
    seed,
    reset,
    advanceClock,
  });
  const server: Server = createServer({ maxHeaderSize: 64 * 1024 }, app);
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await listen();
  port = (server.address() as AddressInfo).port;
  url = `http://${host}:${port}`;
  const pubsub =
    options.pubsub === false
      ? null
      : await startPubSubServer({
          host,
          port: options.pubsub?.port,
          oauth,
          instanceUrl: () => url,
          bus: new ChangeEventBus(org, options.pubsub?.entities ?? ['Lead', 'Contact', 'Account']),
          keepaliveMs: options.pubsub?.keepaliveMs,
          canSubscribe: (user, entity) => org.canReceiveChangeEvents(user, entity),
        });

  const save = () => {
    if (options.dataFile) writeFileSync(options.dataFile, JSON.stringify(org.dump(), null, 1));
  };
  return {
    url,
    port,
    org,
    pubsub,
    async close() {
      save();
      await stopListening();
      await pubsub?.close();
    },
    async setFaults(f) {
      await applyFaults({ ...faults, ...f });
      return { ...faults };
    },
    stats: () => ({
      apiCalls: { total: counters.total, byResource: { ...counters.byResource } },
      apiUsage: { used: counters.used, max: counters.max },
      tokens: counters.tokens,
      droppedResponses: counters.droppedResponses,
      inFlight: counters.inFlight,
      abandoned: counters.abandoned,
    }),
    seed,
    revokeSessions: () => oauth.revokeAll(),
    advanceClock,
    reset,
    save,
  };
}
