// A small Salesforce REST client on fetch: query (+ queryMore), composite, describe. Every call
// passes the API budget, carries Sforce-Call-Options (so change events can tell our writes apart),
// reads Sforce-Limit-Info, and renews the session once on INVALID_SESSION_ID.
import { CALL_OPTIONS_CLIENT } from './api-names.ts';
import type { JwtBearerAuth, Session } from './auth.ts';
import type { ApiBudget } from './budget.ts';
import { SalesforceError } from './errors.ts';

export interface CompositeSubrequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  referenceId: string;
  body?: unknown;
}
/** A subresponse's body is what the subrequest's resource answers (a QueryResult, SaveResult[], ApiError[], ...). */
export interface CompositeSubresponse<B = unknown> {
  body: B;
  httpStatusCode: number;
  referenceId: string;
}

/** GET /query (REST API Developer Guide, "Query"): one page; nextRecordsUrl while more remain. */
export interface QueryResult<T> {
  totalSize: number;
  done: boolean;
  records: T[];
  nextRecordsUrl?: string;
}

/** An error item (REST API Developer Guide, "Status Codes and Error Responses"). */
export interface ApiError {
  errorCode?: string;
  message?: string;
  fields?: string[];
}

/** One record's result in sObject Collections ("Create/Update/Delete Records Using sObject Collections"). */
export interface SaveResult {
  success: boolean;
  id?: string;
  errors?: { statusCode?: string; message?: string; fields?: string[] }[];
}

/** A record as a query returns it. */
export type SObjectRow = { Id: string } & Record<string, unknown>;

export interface ClientHooks {
  onCall?: (resource: string, status: number) => void;
  onLimitInfo?: (used: number, max: number) => void;
  /** A call is held by the API budget for `ms` (it sleeps at most 1 s, then asks again). */
  onBudgetWait?: (ms: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SalesforceClient {
  readonly apiVersion: string;
  private readonly auth: JwtBearerAuth;
  private readonly budget: ApiBudget;
  private readonly timeoutMs: number;
  private readonly hooks: ClientHooks;
  /** Calls made by this client (each composite counts once, as Salesforce counts it). */
  calls = 0;

  constructor(opts: { auth: JwtBearerAuth; budget: ApiBudget; apiVersion: string; timeoutMs: number; hooks?: ClientHooks }) {
    this.auth = opts.auth;
    this.budget = opts.budget;
    this.apiVersion = opts.apiVersion;
    this.timeoutMs = opts.timeoutMs;
    this.hooks = opts.hooks ?? {};
  }

  get base(): string {
    return `/services/data/v${this.apiVersion}`;
  }

  /** Waits for the budget, then calls; throws SalesforceError for a failed request. */
  async request<B = unknown>(method: string, path: string, body?: unknown, resource = 'other'): Promise<{ status: number; body: B }> {
    for (let d = this.budget.delayMs(); d > 0; d = this.budget.delayMs()) {
      this.hooks.onBudgetWait?.(d);
      await sleep(Math.min(d, 1000));
    }
    let session = await this.auth.get();
    for (let attempt = 0; ; attempt++) {
      this.budget.take();
      const res = await this.send(session, method, path, body, resource);
      if (res.status === 401 && attempt === 0) {
        session = await this.auth.renew(session); // expired or revoked: one new assertion, then retry once
        continue;
      }
      if (res.status >= 400) {
        const first = (Array.isArray(res.body) ? res.body[0] : res.body) as ApiError | undefined;
        const code = first?.errorCode ?? (res.status >= 500 ? 'SERVER_UNAVAILABLE' : `HTTP_${res.status}`);
        if (code === 'REQUEST_LIMIT_EXCEEDED') this.budget.pause(this.budget.limitPauseMs);
        throw new SalesforceError(res.status, code, first?.message ?? `HTTP ${res.status}`);
      }
      return res as { status: number; body: B };
    }
  }

  private async send(session: Session, method: string, path: string, body: unknown, resource: string) {
    this.calls++;
    let res: Response;
    try {
      res = await fetch(session.instanceUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${session.accessToken}`,
          accept: 'application/json',
          'sforce-call-options': `client=${CALL_OPTIONS_CLIENT}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      this.hooks.onCall?.(resource, 0);
      const err = e as Error;
      throw new SalesforceError(0, err.name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK_ERROR', err.message, 'transient');
    }
    const info = res.headers.get('sforce-limit-info');
    this.budget.observe(info);
    const m = info ? /api-usage=(\d+)\/(\d+)/.exec(info) : null;
    if (m) this.hooks.onLimitInfo?.(Number(m[1]), Number(m[2]));
    this.hooks.onCall?.(resource, res.status);
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = [{ errorCode: res.status >= 500 ? 'SERVER_UNAVAILABLE' : 'UNPARSEABLE_RESPONSE', message: text.slice(0, 200) }];
    }
    return { status: res.status, body: parsed };
  }

  async query<T = SObjectRow>(soql: string): Promise<T[]> {
    return this.allPages((await this.request<QueryResult<T>>('GET', `${this.base}/query?q=${encodeURIComponent(soql)}`, undefined, 'query')).body);
  }

  /** Every record of a query, from its first page (answered alone or inside a composite) through nextRecordsUrl. */
  async allPages<T>(first: QueryResult<T>): Promise<T[]> {
    const out = [...first.records];
    for (let page = first; page.nextRecordsUrl;) {
      page = (await this.request<QueryResult<T>>('GET', page.nextRecordsUrl, undefined, 'query')).body;
      out.push(...page.records);
    }
    return out;
  }

  /** The integration user's id (to tell its own writes from people's). */
  async userId(): Promise<string | null> {
    return (await this.auth.get()).userId;
  }

  /** POST /composite: up to 25 subrequests (5 collections or queries); one API call in all. */
  async composite(subrequests: CompositeSubrequest[], allOrNone = false): Promise<CompositeSubresponse[]> {
    const res = await this.request('POST', `${this.base}/composite`, { allOrNone, compositeRequest: subrequests }, 'composite');
    // One subresponse per subrequest (reference/salesforce.md "Composite"); anything else accounts for
    // nothing, so it is a transient failure (retried), never an empty success.
    const list = (res.body as { compositeResponse?: unknown } | undefined)?.compositeResponse;
    const problem = !Array.isArray(list)
      ? 'no compositeResponse list'
      : list.length !== subrequests.length
        ? `${list.length} subresponses for ${subrequests.length} subrequests`
        : list.some((x) => !x || typeof x !== 'object' || typeof (x as CompositeSubresponse).httpStatusCode !== 'number')
          ? 'a malformed subresponse'
          : null;
    if (problem) throw new SalesforceError(res.status, 'MALFORMED_RESPONSE', `composite answered HTTP ${res.status} with ${problem}`, 'transient');
    return list as CompositeSubresponse[];
  }
}
