// Configuration from environment variables (12-factor), validated once at start.
// Every variable is documented in the README and in config/middleware.env.example.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().nonnegative();

const EnvSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default('0.0.0.0'),
    SF_LOGIN_URL: z.url().default('https://login.salesforce.com'),
    SF_CLIENT_ID: z.string().min(1, 'the External Client App consumer key is required'),
    SF_USERNAME: z.string().min(1, 'the integration user name is required'),
    SF_PRIVATE_KEY: z.string().optional(),
    SF_PRIVATE_KEY_FILE: z.string().optional(),
    SF_API_VERSION: z
      .string()
      .regex(/^\d{2,3}\.0$/, 'must look like 66.0')
      .default('66.0'),
    /** Audience claim of the JWT; defaults to login or test.salesforce.com by SF_LOGIN_URL's kind (defaultAudience). */
    SF_AUDIENCE: z.string().optional(),
    DIDOMI_WEBHOOK_CLIENT_ID: z.string().min(1, 'the client id Didomi uses to get a webhook token is required'),
    DIDOMI_WEBHOOK_CLIENT_SECRET: z.string().min(16, 'must be at least 16 characters'),
    WEBHOOK_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters (it signs webhook tokens)'),
    WEBHOOK_TOKEN_TTL_SECONDS: positiveInt.default(3600),
    DATABASE_URL: z.string().optional(),
    SQLITE_PATH: z.string().default('./data/didomi-sync.sqlite'),
    DIDOMI_ALLOWED_IPS: z.string().optional(),
    /** Trust X-Forwarded-For from this many proxies (express "trust proxy"); 0 = use the socket address. */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).default(0),
    API_BUDGET_SHARE: z.coerce.number().gt(0).max(1).default(0.2),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    INSTANCE_ID: z.string().optional(),
    // Tuning knobs (defaults suit production; tests and benchmarks shorten them)
    BATCH_MAX_USERS: positiveInt.max(1000).default(1000),
    /** Optional floor between batch starts while traffic is light; 0: a batch starts as soon as there is work and
     *  the previous partial batch has ended (natural batching, sync/worker-loop.ts), paced by the API budget. */
    BATCH_WAIT_MS: nonNegative.default(0),
    /** After a partial batch, wait this long times its fill before the next (worker-loop.ts): 2 s makes
     *  batches fill up from about 500 users/s (BATCH_MAX_USERS / 2 s) and leaves a trickle undelayed. */
    BATCH_LINGER_MS: nonNegative.default(2000),
    WORKER_CONCURRENCY: positiveInt.max(16).default(2),
    LEASE_MS: positiveInt.default(120_000),
    SF_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
    CONFIG_REFRESH_MS: positiveInt.default(30_000),
    HEARTBEAT_MS: positiveInt.default(60_000),
    /** Multiplies every retry delay: 1 in production; the reliability suite compresses time with e.g. 0.001. */
    RETRY_BACKOFF_SCALE: z.coerce.number().positive().default(1),
    MAX_BODY_BYTES: positiveInt.default(512 * 1024),
    /** POST /oauth/token: failed client authentications allowed per source address and window, then 429. */
    TOKEN_MAX_FAILURES: positiveInt.default(10),
    TOKEN_FAILURE_WINDOW_SECONDS: positiveInt.default(60),
    SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
    /** Days an inbox event is kept after it is merged and written (audit), then pruned. */
    RETENTION_DAYS: z.coerce.number().positive().max(3650).default(7),
    PRUNE_EVERY_MS: positiveInt.default(3_600_000),
    // Salesforce -> Didomi (off unless the three Didomi API settings are given)
    DIDOMI_API_URL: z.url().default('https://api.didomi.io/v1'),
    DIDOMI_API_KEY: z.string().optional(),
    DIDOMI_API_SECRET: z.string().optional(),
    DIDOMI_ORGANIZATION_ID: z.string().optional(),
    REVERSE_SYNC_MS: positiveInt.default(60_000),
    /** How often Didomi's catalogue (purposes, preferences, values) is copied to the org, at most (sync/catalogue-sync.ts). */
    CATALOGUE_REFRESH_MS: positiveInt.default(3_600_000),
    /** How Salesforce -> Didomi finds refusals: cdc (Change Data Capture over the Pub/Sub API, no REST API cost),
     *  poll (SOQL every REVERSE_SYNC_MS, for orgs whose CDC entity allowance is full), off. */
    REVERSE_MODE: z.enum(['cdc', 'poll', 'off']).default('cdc'),
    /** The Pub/Sub API endpoint: grpcs:// (TLS) for Salesforce; grpc:// (plaintext) only for the local emulator. */
    PUBSUB_URL: z
      .string()
      .regex(/^grpcs?:\/\/[^/]+$/, 'grpcs://host:port')
      .default('grpcs://api.pubsub.salesforce.com:7443'),
    /** How long a replica's hold on a change event stream lasts without renewal (another replica then takes over). */
    REVERSE_LEASE_MS: positiveInt.default(30_000),
  })
  .refine(
    (e) => {
      const given = [e.DIDOMI_API_KEY, e.DIDOMI_API_SECRET, e.DIDOMI_ORGANIZATION_ID].filter(Boolean).length;
      return given === 0 || given === 3;
    },
    {
      message: 'the Salesforce -> Didomi direction needs DIDOMI_API_KEY, DIDOMI_API_SECRET and DIDOMI_ORGANIZATION_ID together',
      path: ['DIDOMI_API_KEY'],
    },
  )
  .refine((e) => e.SF_PRIVATE_KEY || e.SF_PRIVATE_KEY_FILE, {
    message: 'set SF_PRIVATE_KEY (PEM) or SF_PRIVATE_KEY_FILE (path to the PEM file)',
    path: ['SF_PRIVATE_KEY_FILE'],
  });

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Omit<Env, 'SF_PRIVATE_KEY' | 'SF_PRIVATE_KEY_FILE' | 'DIDOMI_ALLOWED_IPS'> {
  /** The PEM private key, loaded from SF_PRIVATE_KEY or SF_PRIVATE_KEY_FILE. Never log it. */
  privateKey: string;
  allowedIps: string[];
  audience: string;
  instanceId: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** Parses and checks the environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const e = parsed.data;
  let privateKey = e.SF_PRIVATE_KEY ?? '';
  if (!privateKey && e.SF_PRIVATE_KEY_FILE) {
    try {
      privateKey = readFileSync(e.SF_PRIVATE_KEY_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError([`SF_PRIVATE_KEY_FILE: cannot read ${e.SF_PRIVATE_KEY_FILE} (${(err as NodeJS.ErrnoException).code})`]);
    }
  }
  privateKey = privateKey.replace(/\\n/g, '\n');
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey)) {
    throw new ConfigError(['SF_PRIVATE_KEY / SF_PRIVATE_KEY_FILE: not a PEM private key']);
  }
  const { SF_PRIVATE_KEY: _k, SF_PRIVATE_KEY_FILE: _f, DIDOMI_ALLOWED_IPS, ...rest } = e;
  return {
    ...rest,
    privateKey,
    allowedIps: (DIDOMI_ALLOWED_IPS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    audience: e.SF_AUDIENCE ?? defaultAudience(e.SF_LOGIN_URL),
    instanceId: e.INSTANCE_ID ?? `didomi-sync-${process.env.HOSTNAME ?? 'local'}`,
  };
}

/**
 * The JWT `aud` Salesforce expects for a login URL: https://test.salesforce.com for sandboxes and
 * scratch orgs, https://login.salesforce.com otherwise; never the My Domain itself (help.salesforce.com
 * "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration": aud is login, test or an Experience
 * Cloud site URL, which needs SF_AUDIENCE). Sandbox hosts: `*.sandbox.my.salesforce.com`, or
 * `mydomain--sandbox...` without enhanced domains (help.salesforce.com "My Domain URL Formats",
 * products.domain_name_app_url_changes.htm).
 */
export function defaultAudience(loginUrl: string): string {
  const host = new URL(loginUrl).hostname.toLowerCase();
  const sandbox =
    host === 'test.salesforce.com' ||
    host.endsWith('.sandbox.my.salesforce.com') ||
    host.endsWith('.scratch.my.salesforce.com') ||
    (host.endsWith('.my.salesforce.com') && host.split('.')[0]!.includes('--'));
  return sandbox ? 'https://test.salesforce.com' : 'https://login.salesforce.com';
}
