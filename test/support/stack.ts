// The whole product on one machine for tests, the demo and the benchmark: an org emulator seeded
// with a sync configuration, and the middleware (in-process, or as a child process that can be
// SIGKILLed) authenticating to it with the JWT bearer flow, on SQLite or PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import { NODE_FLAGS } from '../../middleware/src/bin/node-flags.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator, type EmulatorOptions, type Faults } from '@didomi-sync/emulator';
import { loadConfig } from '../../middleware/src/config.ts';
import { createService, type Service } from '../../middleware/src/service.ts';
import { createLogger } from '../../middleware/src/observability/logger.ts';
import type { Store } from '../../middleware/src/store/types.ts';
import { rsaKeyPair } from './keys.ts';
import { CUSTOMER_FIELDS, CUSTOMER_PERMISSION_SETS, INTEGRATION_PERMISSION_SETS, seedSyncConfig, type SeedOptions } from './org-fixture.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CONSUMER_KEY = '3MVG9_DEMO_CONSUMER_KEY';
export const SF_USERNAME = 'didomi-sync@example.com';
export const WEBHOOK_CLIENT_ID = 'didomi-webhooks';
export const WEBHOOK_CLIENT_SECRET = 'didomi-client-secret-0123456789';
export const WEBHOOK_TOKEN_SECRET = 'token-signing-secret-0123456789abcdef0123';
/** The PostgreSQL server tests use: TEST_DATABASE_URL, or the local default. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface StackOptions {
  store?: 'sqlite' | 'postgres';
  databaseUrl?: string;
  mode?: 'inprocess' | 'child';
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** Faults set in the emulator before the middleware starts (e.g. an outage, so nothing is claimed yet). */
  faults?: Partial<Faults>;
  /** Another replica: this middleware uses that stack's emulator (org and key) instead of its own. */
  replicaOf?: Stack;
  seed?: SeedOptions | false;
  /** (in-process mode) the store to run on, e.g. one with an injected clock (default: from the environment). */
  makeStore?: (env: Record<string, string>) => Store;
  /** Where the middleware's log lines go (default: discarded). */
  onLog?: (line: string) => void;
  logLevel?: string;
  /** (in-process mode) the middleware runs on the emulator's clock, so advanceClock moves both (e.g. past the 72 h event retention). */
  followEmulatorClock?: boolean;
  /** (child mode) run the service the way `npm start` does: compiled JavaScript through middleware/start.js (built when stale). */
  compiled?: boolean;
  /** (child mode) more Node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /**
   * Return once the sync has started (its first configuration read, heartbeat and housekeeping runs ended),
   * as tests that count from a quiet start expect (default); false: once it listens, e.g. while the org is held.
   */
  waitForStart?: boolean;
}

export interface Stack {
  emu: Emulator;
  url: string;
  env: Record<string, string>;
  service?: Service;
  child?: ChildProcess;
  dir: string;
  token(): Promise<string>;
  post(body: unknown, token?: string): Promise<{ status: number; body: any }>;
  waitForDrain(timeoutMs?: number): Promise<void>;
  metrics(): Promise<string>;
  records(sobject: string): Promise<any[]>;
  /** (child mode) start the middleware again after a kill */
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const keys = o.replicaOf ? { privateKey: o.replicaOf.env.SF_PRIVATE_KEY } : rsaKeyPair();
  const emu =
    o.replicaOf?.emu ??
    (await startEmulator({
      publicKey: (keys as { publicKey: string }).publicKey,
      consumerKey: CONSUMER_KEY,
      username: SF_USERNAME,
      extraFields: CUSTOMER_FIELDS,
      extraPermissionSets: CUSTOMER_PERMISSION_SETS,
      permissionSets: INTEGRATION_PERMISSION_SETS,
      dailyApiLimit: 1_000_000,
      ...o.emulator,
    }));
  if (!o.replicaOf && o.seed !== false) await seedSyncConfig(emu, o.seed ?? {});
  if (o.faults) await emu.setFaults(o.faults);
  const dir = mkdtempSync(join(tmpdir(), 'didomi-sync-'));
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    SF_LOGIN_URL: emu.url,
    SF_AUDIENCE: 'https://login.salesforce.com', // what Salesforce accepts as aud; never the token endpoint's own (My Domain) URL
    SF_CLIENT_ID: CONSUMER_KEY,
    SF_USERNAME,
    SF_PRIVATE_KEY: keys.privateKey,
    SF_API_VERSION: '66.0',
    DIDOMI_WEBHOOK_CLIENT_ID: WEBHOOK_CLIENT_ID,
    DIDOMI_WEBHOOK_CLIENT_SECRET: WEBHOOK_CLIENT_SECRET,
    WEBHOOK_TOKEN_SECRET,
    SQLITE_PATH: join(dir, 'didomi-sync.sqlite'),
    LOG_LEVEL: o.logLevel ?? 'silent',
    HEARTBEAT_MS: '2000',
    CONFIG_REFRESH_MS: '2000',
    RETRY_BACKOFF_SCALE: '0.01',
    SHUTDOWN_GRACE_MS: '3000',
    INSTANCE_ID: 'test-instance',
    ...(emu.pubsub ? { PUBSUB_URL: emu.pubsub.url } : {}),
    ...(o.store === 'postgres' ? { DATABASE_URL: o.databaseUrl ?? TEST_DATABASE_URL } : {}),
    ...o.env,
  };
  let url = '';
  let service: Service | undefined;
  let child: ChildProcess | undefined;
  const start = async () => {
    if (o.mode === 'child') {
      const entry = o.compiled ? 'middleware/start.js' : 'middleware/src/bin/didomi-sync.ts';
      child = spawn(process.execPath, [...NODE_FLAGS, ...(o.nodeFlags ?? []), join(ROOT, entry), 'serve'], {
        env: { ...process.env, ...env, LOG_LEVEL: ['debug', 'trace'].includes(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      url = await new Promise<string>((res, rej) => {
        let buf = '';
        let listening = '';
        const onData = (d: Buffer) => {
          buf += d.toString();
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            o.onLog?.(line);
            const m = /"url":"(http[^"]+)"/.exec(line);
            if (m && line.includes('listening')) listening = m[1];
            if (listening && (o.waitForStart === false || line.includes('didomi-sync started'))) res(listening);
          }
        };
        child!.stdout!.on('data', onData);
        child!.stderr!.on('data', (d: Buffer) => o.onLog?.(d.toString()));
        child!.once('exit', (code) => rej(new Error(`middleware exited with ${code} before listening`)));
        if (process.env.DEBUG_STACK) child!.once('exit', (code, sig) => console.log('middleware exit', code, sig));
      });
    } else {
      const config = loadConfig(env);
      const now = o.followEmulatorClock ? () => emu.org.now() : undefined;
      const onLog = o.onLog;
      const logger = createLogger(env.LOG_LEVEL, onLog ? { write: (line: string) => onLog(line.trimEnd()) } : undefined);
      service = await createService(config, { logger, store: o.makeStore?.(env), now });
      url = (await service.listen(0, '127.0.0.1')).url;
      if (o.waitForStart !== false) await service.started();
    }
  };
  await start();
  let cachedToken: string | null = null;
  const stack: Stack = {
    emu,
    env,
    dir,
    get url() {
      return url;
    },
    get service() {
      return service;
    },
    get child() {
      return child;
    },
    async token() {
      const res = await fetch(`${url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: WEBHOOK_CLIENT_ID, client_secret: WEBHOOK_CLIENT_SECRET }),
      });
      const body = (await res.json()) as any;
      if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async post(body, token) {
      cachedToken ??= await stack.token();
      const res = await fetch(`${url}/webhooks/didomi`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token ?? cachedToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    },
    async metrics() {
      return (await fetch(`${url}/metrics`)).text();
    },
    async waitForDrain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = await stack.metrics();
        const depth = Number(/^didomi_sync_queue_depth (\S+)/m.exec(m)?.[1] ?? 'NaN');
        if (depth === 0) return;
        if (Date.now() > deadline) throw new Error(`queue not drained after ${timeoutMs} ms (depth ${depth})`);
        await sleep(50);
      }
    },
    async records(sobject) {
      return ((await (await fetch(`${emu.url}/__emulator/records/${sobject}`)).json()) as any).records;
    },
    async restart() {
      await start();
    },
    async kill(signal = 'SIGKILL') {
      if (!child) throw new Error('kill() needs mode: child');
      const c = child;
      if (c.exitCode !== null || c.signalCode !== null) return; // already gone
      const exited = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      await exited;
    },
    async close() {
      if (service) await service.stop();
      if (child && child.exitCode === null && child.signalCode === null) await stack.kill('SIGTERM');
      if (!o.replicaOf) await emu.close(); // a replica's emulator belongs to the first stack
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}
