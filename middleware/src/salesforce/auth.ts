// OAuth 2.0 JWT bearer flow (reference/salesforce.md): an RS256 assertion signed with the
// integration user's key (iss = consumer key, sub = username, aud = login URL, exp <= 3 minutes,
// in seconds). No refresh token: a new assertion renews the session. One renewal at a time:
// concurrent requests that meet INVALID_SESSION_ID wait on the same promise (single flight).
import jwt from 'jsonwebtoken';
import { SalesforceAuthError, SalesforceError } from './errors.ts';

export interface AuthConfig {
  loginUrl: string;
  clientId: string;
  username: string;
  privateKey: string;
  audience: string;
  timeoutMs: number;
  /** The service's clock (iat, from which exp is counted); Date.now by default. */
  now?: () => number;
}

export interface Session {
  accessToken: string;
  instanceUrl: string;
  /** The integration user's id, from the identity URL in the token response (`.../id/{orgId}/{userId}`). */
  userId: string | null;
  /** The org's id (the Pub/Sub API's `tenantid` header), from the same identity URL. */
  orgId?: string | null;
}

export class JwtBearerAuth {
  private session: Session | null = null;
  private inflight: Promise<Session> | null = null;
  private readonly cfg: AuthConfig;
  /** Number of token requests made (for metrics and tests). */
  renewals = 0;
  constructor(cfg: AuthConfig) {
    this.cfg = cfg;
  }

  async get(): Promise<Session> {
    return this.session ?? this.renew(null);
  }

  /** Renews unless someone already replaced the stale session. */
  renew(stale: Session | null): Promise<Session> {
    if (this.session && this.session !== stale) return Promise.resolve(this.session);
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchToken(): Promise<Session> {
    this.renewals++;
    const iat = Math.floor((this.cfg.now ?? Date.now)() / 1000);
    const assertion = jwt.sign({ iss: this.cfg.clientId, sub: this.cfg.username, aud: this.cfg.audience, iat }, this.cfg.privateKey, {
      algorithm: 'RS256',
      expiresIn: 180,
    });
    let res: Response;
    try {
      res = await fetch(`${this.cfg.loginUrl.replace(/\/$/, '')}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
    } catch (e) {
      throw new SalesforceError(0, 'NETWORK_ERROR', `token request failed: ${(e as Error).message}`, 'transient');
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, string>;
    if (res.status !== 200 || !body.access_token) {
      if (res.status >= 500) throw new SalesforceError(res.status, 'SERVER_UNAVAILABLE', `token endpoint answered ${res.status}`, 'transient');
      // invalid_grant / invalid_client_id: the key, consumer key, user or audience is wrong. Retried slowly, reported clearly.
      throw new SalesforceAuthError(res.status, body.error ?? 'invalid_grant', body.error_description ?? `token endpoint answered ${res.status}`, 'transient');
    }
    this.session = {
      accessToken: body.access_token,
      instanceUrl: body.instance_url.replace(/\/$/, ''),
      userId: body.id?.split('/').pop() || null,
      orgId: body.id?.split('/').at(-2) || null,
    };
    return this.session;
  }
}
