// Didomi's Consents API, for the Salesforce -> Didomi direction (reference/didomi.md "Consents
// API"): `POST /sessions` with an API key and secret gives a bearer token (lifetime undocumented:
// log in again on 401); every call takes `organization_id`; `POST /consents/events` records a
// consent change for a user known by its organization_user_id, or by Didomi's user id (`user.id`).
import { didomiUserRef } from './user-key.ts';

export class DidomiApiError extends Error {
  readonly status: number;
  /** 5xx, 429 and network trouble are worth retrying; other 4xx are not. */
  readonly transient: boolean;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.transient = status === 0 || status === 429 || status >= 500;
  }
}

export interface ConsentEventInput {
  /** The person's key in this service (`user-key.ts`): an organization_user_id, or `didomi:<Didomi user id>`. */
  userKey: string;
  regulation: string;
  purposes: { id: string; enabled: boolean }[];
}

export interface DidomiApiOptions {
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  organizationId: string;
  timeoutMs: number;
}

export class DidomiApi {
  private readonly o: DidomiApiOptions;
  private token: Promise<string> | null = null;

  constructor(o: DidomiApiOptions) {
    this.o = { ...o, baseUrl: o.baseUrl.replace(/\/$/, '') };
  }

  private async fetchJson(method: string, path: string, body: unknown, token?: string) {
    let res: Response;
    try {
      res = await fetch(`${this.o.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (e) {
      throw new DidomiApiError(0, `Didomi API unreachable: ${(e as Error).message}`);
    }
    const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    return { status: res.status, json };
  }

  private login(): Promise<string> {
    // One login at a time; a failed login is forgotten so the next call tries again.
    this.token ??= (async () => {
      const r = await this.fetchJson('POST', '/sessions', { type: 'api-key', key: this.o.apiKey, secret: this.o.apiSecret });
      if (r.status !== 200 && r.status !== 201) throw new DidomiApiError(r.status, `Didomi login refused (${r.status})`);
      const t = r.json?.access_token;
      if (typeof t !== 'string') throw new DidomiApiError(502, 'Didomi login answered without access_token');
      return t;
    })().catch((e) => {
      this.token = null;
      throw e;
    });
    return this.token;
  }

  /** Every item of a paginated list (`{ data, total, limit, skip }`, paged with `$limit`/`$skip`), logging in again once on 401. */
  async getAll(path: string, pageSize = 100): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let skip = 0; ;) {
      const sep = path.includes('?') ? '&' : '?';
      const url = `${path}${sep}organization_id=${encodeURIComponent(this.o.organizationId)}&$limit=${pageSize}&$skip=${skip}`;
      let r: { status: number; json: Record<string, unknown> | null } | undefined;
      for (let attempt = 0; attempt < 2; attempt++) {
        const token = await this.login();
        r = await this.fetchJson('GET', url, undefined, token);
        if (r.status !== 401 || attempt > 0) break;
        if (this.token && (await this.token.catch(() => null)) === token) this.token = null;
      }
      if (!r || r.status < 200 || r.status >= 300) throw new DidomiApiError(r?.status ?? 0, `Didomi refused GET ${path} (${r?.status})`);
      const page = Array.isArray(r.json?.data) ? (r.json.data as unknown[]) : Array.isArray(r.json) ? (r.json as unknown[]) : [];
      out.push(...page);
      const total = typeof r.json?.total === 'number' ? r.json.total : out.length;
      skip += page.length;
      if (page.length === 0 || skip >= total) return out;
    }
  }

  /** Records a consent change in Didomi; Didomi's own webhook then brings it back to the store. */
  async postConsentEvent(e: ConsentEventInput): Promise<void> {
    const path = `/consents/events?organization_id=${encodeURIComponent(this.o.organizationId)}`;
    const body = { user: didomiUserRef(e.userKey), regulation: e.regulation, consents: { purposes: e.purposes } };
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await this.login();
      const r = await this.fetchJson('POST', path, body, token);
      if (r.status === 401 && attempt === 0) {
        if (this.token && (await this.token.catch(() => null)) === token) this.token = null; // expired: log in again once
        continue;
      }
      if (r.status >= 200 && r.status < 300) return;
      const msg = typeof r.json?.message === 'string' ? r.json.message : `HTTP ${r.status}`;
      throw new DidomiApiError(r.status, `Didomi refused the consent event: ${msg}`);
    }
  }
}
