// The sync engine: claims users with pending events, merges their consent state, matches their
// records for the whole batch, writes only changed fields through sObject Collections inside
// /composite, and settles each user: done, retry later (backoff), or dead letter.
import { createHash } from 'node:crypto';
import { RECORD_FIELDS, SYNC_ERROR, SYNC_STATUS, TARGET_OBJECTS } from '../salesforce/api-names.ts';
import { JwtBearerAuth } from '../salesforce/auth.ts';
import { ApiBudget } from '../salesforce/budget.ts';
import { SalesforceClient, type CompositeSubrequest, type CompositeSubresponse } from '../salesforce/client.ts';
import { classifyCode, SalesforceError } from '../salesforce/errors.ts';
import { inChunks, inList, soqlIdent, soqlString } from '../salesforce/soql.ts';
import { factsOf } from '../didomi/facts.ts';
import { hashUserKey } from '../observability/logger.ts';
import type { ClaimedUser, CompletedUser, DeadLetter, FailedUser, Json } from '../store/types.ts';
import { buildConfig, MAPPINGS_SOQL, TARGETS_SOQL } from './config-loader.ts';
import { merge, type ConsentState } from './consent-state.ts';
import { cleared, project, type FieldValues } from './project.ts';
import { retryDelayMs } from './retry.ts';
import { creationSkipReason, writableRecords } from './match-rules.ts';
import { unaccounted, type RecordResult } from './result-accounting.ts';
import { MAX_ISOLATION_ROUNDS, noConsentFallback, refusedFields, withoutFields } from './field-isolation.ts';
import { collectionsByType } from './collections.ts';
import type { SyncConfig, Target } from './config-types.ts';
import type { SyncEngine, SyncEngineDeps } from './engine-types.ts';
import { ReverseSync } from './reverse.ts';
import { CdcSubscriber } from './cdc-subscriber.ts';
import { PubSubClient } from '../salesforce/pubsub-client.ts';
import { keepLeases } from './lease-keeper.ts';
import { DidomiApi } from '../didomi/api-client.ts';

const MAX_COLLECTION = 200; // reference/salesforce.md: sObject Collections, at most 200 records
const MAX_HEAVY_PER_COMPOSITE = 5; // reference: at most 5 collections or queries per composite
const VERSION = '0.1.0';

type Written = Record<string, Record<string, unknown>>; // record id -> field -> value last written

interface Work {
  user: ClaimedUser;
  state: ConsentState;
  doneSeq: number;
  written: Written;
  transient: string | null;
  /** A write may have reached Salesforce although we saw no answer (timeout, dropped connection). */
  unknownOutcome: boolean;
  dead: DeadLetter[];
}

interface RecordOp {
  work: Work;
  target: Target;
  kind: 'update' | 'upsert' | 'delete';
  id?: string;
  fields: FieldValues;
  /** Fields Salesforce refused and this op was resent without (field-isolation.ts): remembered as written, so they are not repeated. */
  refused?: FieldValues;
  /** Fields resent with their no-consent value after a refusal: if refused again, they are left out. */
  fallback?: Set<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createSyncEngine(deps: SyncEngineDeps): SyncEngine {
  return new Engine(deps);
}

class Engine implements SyncEngine {
  private readonly d: SyncEngineDeps;
  private readonly now: () => number;
  private readonly auth: JwtBearerAuth;
  private readonly budget: ApiBudget;
  readonly client: SalesforceClient;
  private config: SyncConfig | null = null;
  private reportedProblems = '';
  private stopping = false;
  private wakers: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private inflight = new Set<Promise<void>>();
  private housekeepingTimer: NodeJS.Timeout | null = null;
  private housekeepingRunning: Promise<void> | null = null;
  private reverseTimer: NodeJS.Timeout | null = null;
  private reverseRunning: Promise<void> | null = null;
  private cdc: CdcSubscriber | null = null;
  private poller: ReverseSync | null = null;
  private readonly workerId: string;
  /** Users whose dead letters the admin asked to retry: user key -> error record ids. */
  private retrying = new Map<string, string[]>();
  private resolvedErrors: string[] = [];
  private today = { date: '', accepted: 0, synced: 0, failed: 0 };
  private lastSuccess: string | null = null;
  private lastError: { at: string; message: string } | null = null;

  constructor(deps: SyncEngineDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
    const c = deps.config;
    this.workerId = `${c.instanceId}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.auth = new JwtBearerAuth({
      loginUrl: c.SF_LOGIN_URL,
      clientId: c.SF_CLIENT_ID,
      username: c.SF_USERNAME,
      privateKey: c.privateKey,
      audience: c.audience,
      timeoutMs: c.SF_REQUEST_TIMEOUT_MS,
      now: this.now,
    });
    this.budget = new ApiBudget(c.API_BUDGET_SHARE, this.now, Math.max(100, 60_000 * c.RETRY_BACKOFF_SCALE));
    this.client = new SalesforceClient({
      auth: this.auth,
      budget: this.budget,
      apiVersion: c.SF_API_VERSION,
      timeoutMs: c.SF_REQUEST_TIMEOUT_MS,
      hooks: {
        onCall: (resource, status) => deps.metrics.sfApiCalls.inc({ resource, status: String(status) }),
        onLimitInfo: (used, max) => {
          deps.metrics.sfApiUsed.set(used);
          deps.metrics.sfApiMax.set(max);
        },
      },
    });
  }

  async start(): Promise<void> {
    await this.housekeeping().catch(() => undefined);
    const every = Math.min(this.d.config.HEARTBEAT_MS, this.d.config.CONFIG_REFRESH_MS);
    const tick = () => {
      if (this.stopping) return;
      this.housekeepingTimer = setTimeout(
        async () => {
          await this.housekeeping().catch(() => undefined);
          tick();
        },
        this.config ? every : Math.min(every, 2000),
      );
    };
    tick();
    for (let i = 0; i < this.d.config.WORKER_CONCURRENCY; i++) this.loops.push(this.loop());
    this.startReverse();
  }

  /** Salesforce -> Didomi, when the Didomi API is configured (sync/reverse.ts). */
  private startReverse() {
    const c = this.d.config;
    if (!c.DIDOMI_API_KEY || !c.DIDOMI_API_SECRET || !c.DIDOMI_ORGANIZATION_ID || c.REVERSE_MODE === 'off') return;
    const didomi = new DidomiApi({
      baseUrl: c.DIDOMI_API_URL,
      apiKey: c.DIDOMI_API_KEY,
      apiSecret: c.DIDOMI_API_SECRET,
      organizationId: c.DIDOMI_ORGANIZATION_ID,
      timeoutMs: c.SF_REQUEST_TIMEOUT_MS,
    });
    if (c.REVERSE_MODE === 'cdc') {
      this.cdc = new CdcSubscriber({
        ...{ client: this.client, store: this.d.store, didomi, config: () => this.config, logger: this.d.logger, logLevel: c.LOG_LEVEL, now: this.now },
        pubsub: new PubSubClient(c.PUBSUB_URL, this.auth),
        holder: this.workerId,
        leaseMs: c.REVERSE_LEASE_MS,
        retryMs: Math.max(50, 5000 * c.RETRY_BACKOFF_SCALE),
        onSent: (outcome) => this.d.metrics.reverseEvents.inc({ outcome }),
        onCatchUp: (object) => this.d.metrics.reverseCatchUps.inc({ object }),
        onEvent: (object, outcome) => this.d.metrics.reverseChangeEvents.inc({ object, outcome }),
      });
      return this.cdc.start();
    }
    const reverse = (this.poller = new ReverseSync(
      {
        client: this.client,
        didomi,
        config: () => this.config,
        logger: this.d.logger,
        logLevel: c.LOG_LEVEL,
        onSent: (outcome) => this.d.metrics.reverseEvents.inc({ outcome }),
        now: this.now,
        persist: { store: this.d.store, holder: this.workerId, leaseMs: Math.max(c.REVERSE_LEASE_MS, 3 * c.REVERSE_SYNC_MS) },
      },
      2 * c.REVERSE_SYNC_MS,
    ));
    const tick = () => {
      if (this.stopping) return;
      this.reverseTimer = setTimeout(async () => {
        this.reverseRunning = reverse
          .poll()
          .catch((e) => this.d.logger.warn({ err: (e as Error).message }, 'Salesforce -> Didomi poll failed; next poll retries'));
        await this.reverseRunning;
        this.reverseRunning = null;
        tick();
      }, c.REVERSE_SYNC_MS);
    };
    tick();
  }

  async stop(graceMs = this.d.config.SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopping = true;
    if (this.housekeepingTimer) clearTimeout(this.housekeepingTimer);
    if (this.reverseTimer) clearTimeout(this.reverseTimer);
    this.notify();
    await Promise.race([Promise.all([...this.loops, ...this.inflight, this.housekeepingRunning, this.reverseRunning, this.cdc?.stop()]), sleep(graceMs)]);
    await this.poller?.release();
    await this.d.store.release(this.workerId).catch(() => undefined); // whatever is still leased goes back to the queue
  }

  notify(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  countAccepted(n: number) {
    this.rollDay();
    this.today.accepted += n;
  }

  async checkSalesforce(): Promise<void> {
    await this.auth.get();
  }

  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakers = this.wakers.filter((f) => f !== w);
        resolve(false);
      }, ms);
      const w = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.wakers.push(w);
    });
  }

  private async loop(): Promise<void> {
    const c = this.d.config;
    while (!this.stopping) {
      if (!this.config) {
        await this.wait(500);
        continue;
      }
      let users: ClaimedUser[];
      try {
        users = await this.d.store.claim({ workerId: this.workerId, maxUsers: c.BATCH_MAX_USERS, maxEventsPerUser: 1000, leaseMs: c.LEASE_MS });
      } catch (e) {
        this.d.logger.error({ err: (e as Error).message }, 'claim failed');
        await this.wait(1000);
        continue;
      }
      if (!users.length) {
        // Idle: sleep until an event arrives (then give the batch a moment to fill) or a retry falls due.
        // Idle polling is a fifth of the shortest retry delay (5 s), so a retry never waits much past its due time.
        if (await this.wait(Math.min(1000, Math.max(10, 1000 * c.RETRY_BACKOFF_SCALE)))) await sleep(c.BATCH_WAIT_MS);
        continue;
      }
      const leases = keepLeases({
        store: this.d.store,
        workerId: this.workerId,
        userKeys: users.map((u) => u.userKey),
        leaseMs: c.LEASE_MS,
        onLost: (keys) => this.d.logger.warn({ users: keys.length }, 'leases lost while the batch was in flight; those users will be processed again'),
        onError: (e) => this.d.logger.warn({ err: e.message }, 'lease renewal failed; retrying'),
      });
      const p = this.process(users, leases)
        .catch((e) => this.d.logger.error({ err: (e as Error).message }, 'batch failed'))
        .finally(() => leases.stop());
      this.inflight.add(p);
      await p;
      this.inflight.delete(p);
      // A batch flushes when full or after BATCH_WAIT_MS: a partial batch means traffic is light, so let the next one fill.
      if (users.length < c.BATCH_MAX_USERS && !this.stopping) await sleep(c.BATCH_WAIT_MS);
    }
  }

  // ---------- one batch ----------

  private async process(users: ClaimedUser[], leases?: { stop(): void }): Promise<void> {
    const started = this.now();
    const callsBefore = this.client.calls;
    const config = this.config!;
    const works: Work[] = users.map((u) => {
      const facts = u.events.flatMap(factsOf);
      return {
        user: u,
        state: merge(u.state as unknown as ConsentState | null, facts),
        doneSeq: u.events.reduce((m, e) => Math.max(m, e.seq), 0),
        written: (u.written as unknown as Written) ?? {},
        transient: null,
        unknownOutcome: false,
        dead: [],
      };
    });
    let written = 0;
    let writing = false;
    try {
      // A target that cannot be matched fails alone: its users get a dead letter, the other targets are written.
      const unmatched = new Map(config.unusable.map((u) => [u.target.object, { target: u.target, code: 'INVALID_MAPPING', message: u.message }]));
      const matches = await this.match(config.targets, works, unmatched);
      for (const w of works)
        for (const u of unmatched.values()) this.recordFailure({ work: w, target: u.target, kind: 'update', fields: {} }, u.code, u.message, 'permanent');
      const ops = this.plan(
        config.targets.filter((t) => !unmatched.has(t.object)),
        works,
        matches,
      );
      written = ops.length;
      writing = true;
      await this.write(ops);
    } catch (e) {
      const msg = e instanceof SalesforceError ? e.message : `unexpected: ${(e as Error).message}`;
      const unknown = writing && e instanceof SalesforceError && (e.code === 'TIMEOUT' || e.code === 'NETWORK_ERROR');
      for (const w of works) {
        w.transient ??= msg;
        if (unknown) w.unknownOutcome = true;
      }
      if (!(e instanceof SalesforceError)) this.d.logger.error({ err: (e as Error).stack }, 'batch error');
    }
    leases?.stop(); // settling releases them
    await this.settle(works);
    const events = users.reduce((n, u) => n + u.events.length, 0);
    this.d.metrics.batchUsers.observe(users.length);
    this.d.metrics.batchEvents.observe(events);
    this.d.logger.info(
      {
        users: users.length,
        events,
        records: written,
        apiCalls: this.client.calls - callsBefore,
        ms: this.now() - started,
        retried: works.filter((w) => w.transient).length,
        deadLetters: works.reduce((n, w) => n + w.dead.length, 0),
      },
      'batch',
    );
  }

  /** Finds every user's records, per target, in as few queries as the URI limit allows. */
  private async match(
    targets: Target[],
    works: Work[],
    unmatched: Map<string, { target: Target; code: string; message: string }>,
  ): Promise<Map<string, Map<string, any[]>>> {
    const keys = [...new Set(works.map((w) => w.user.userKey))];
    const subs: { sub: CompositeSubrequest; target: Target }[] = [];
    for (const t of targets) {
      const matchField = soqlIdent(t.matchField);
      const converted = t.object === 'Lead' ? ', IsConverted' : '';
      for (const chunk of inChunks(keys, matchField === RECORD_FIELDS.userId ? 10_000 : 5_000)) {
        const cond =
          matchField === RECORD_FIELDS.userId
            ? `${RECORD_FIELDS.userId} IN ${inList(chunk)}`
            : `(${RECORD_FIELDS.userId} IN ${inList(chunk)} OR ${matchField} IN ${inList(chunk)})`;
        // Converted leads are matched too (IsConverted selected): they count as the person, never written (match-rules.ts).
        const soql = `SELECT Id, ${RECORD_FIELDS.userId}${matchField === RECORD_FIELDS.userId ? '' : ', ' + matchField}${converted} FROM ${t.object} WHERE ${cond} ORDER BY Id`;
        subs.push({ target: t, sub: { method: 'GET', url: `${this.client.base}/query?q=${encodeURIComponent(soql)}`, referenceId: `q${subs.length}` } });
      }
    }
    const out = new Map<string, Map<string, any[]>>(); // object -> lower key -> records
    for (const t of targets) out.set(t.object, new Map());
    for (let i = 0; i < subs.length; i += MAX_HEAVY_PER_COMPOSITE) {
      const part = subs.slice(i, i + MAX_HEAVY_PER_COMPOSITE);
      const res = await this.client.composite(part.map((p) => p.sub));
      for (const [j, r] of res.entries()) {
        const { target } = part[j];
        if (unmatched.has(target.object)) continue;
        if (r.httpStatusCode >= 400) {
          const err = Array.isArray(r.body) ? r.body[0] : r.body;
          const code = err?.errorCode ?? 'QUERY_FAILED';
          const message = `match query on ${target.object}: ${err?.message ?? ''}`;
          // A permanent refusal (INVALID_FIELD: a field made unreadable since the last describe) stops this target only.
          if (r.httpStatusCode < 500 && classifyCode(code) === 'permanent') {
            unmatched.set(target.object, { target, code, message });
            out.delete(target.object);
            continue;
          }
          throw new SalesforceError(r.httpStatusCode, code, message);
        }
        let body = r.body;
        const records = [...body.records];
        while (body.nextRecordsUrl) {
          body = (await this.client.request('GET', body.nextRecordsUrl, undefined, 'query')).body;
          records.push(...body.records);
        }
        const byKey = out.get(target.object)!;
        for (const rec of records) {
          for (const v of new Set([rec[RECORD_FIELDS.userId], rec[target.matchField]])) {
            if (typeof v !== 'string' || !v) continue;
            const k = v.toLowerCase();
            const list = byKey.get(k) ?? [];
            if (!list.some((x) => x.Id === rec.Id)) list.push(rec);
            byKey.set(k, list);
          }
        }
      }
    }
    return out;
  }

  /** Decides, per user and target, which records to create, update or delete, with changed fields only. */
  private plan(targets: Target[], works: Work[], matches: Map<string, Map<string, any[]>>): RecordOp[] {
    const ops: RecordOp[] = [];
    const claimedIds = new Set<string>();
    for (const w of works) {
      const key = w.user.userKey;
      for (const t of targets) {
        const matched = matches.get(t.object)?.get(key.toLowerCase()) ?? [];
        const records = writableRecords(t, matched);
        const values = project(key, w.state, t);
        if (records.some((r) => claimedIds.has(r.Id))) {
          w.transient ??= 'a record matches two users of this batch; retried in the next batch';
          continue;
        }
        if (values === null) {
          // Deleted in Didomi: the target's deletion behaviour decides.
          for (const r of records) {
            if (t.deletionBehavior === 'Delete Record') ops.push({ work: w, target: t, kind: 'delete', id: r.Id, fields: {} });
            else if (t.deletionBehavior === 'Clear Consent Fields') this.pushUpdate(ops, w, t, r.Id, cleared(t));
            claimedIds.add(r.Id);
          }
          continue;
        }
        if (!records.length) {
          if (!t.upsertMode) continue;
          const skip = creationSkipReason(key, matched);
          if (skip === 'no_organization_user_id') this.d.metrics.usersSkipped.inc({ reason: skip, object: t.object });
          if (skip) continue;
          // Upsert mode: create through an external-id upsert, so a retry never creates a duplicate.
          const fields: FieldValues = {};
          for (const [f, v] of Object.entries(t.creationDefaults))
            if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[f] = v as string | boolean | null;
          const mf = t.fields.get(t.matchField.toLowerCase());
          if (
            mf &&
            mf.createable &&
            t.matchField !== RECORD_FIELDS.userId &&
            (mf.type !== 'email' || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(key)) &&
            key.length <= (mf.length || 255)
          )
            fields[mf.name] = key;
          Object.assign(fields, values);
          ops.push({ work: w, target: t, kind: 'upsert', fields });
          continue;
        }
        const holder = records.find((r) => String(r[RECORD_FIELDS.userId] ?? '').toLowerCase() === key.toLowerCase());
        const idOwner = holder ?? records[0];
        for (const r of records) {
          claimedIds.add(r.Id);
          const desired = { ...values };
          // Didomi_User_Id__c is a unique external id: only one of several matching records may hold it.
          if (r.Id !== idOwner.Id) delete desired[RECORD_FIELDS.userId];
          this.pushUpdate(ops, w, t, r.Id, desired);
        }
      }
    }
    return ops;
  }

  private pushUpdate(ops: RecordOp[], w: Work, t: Target, id: string, desired: FieldValues) {
    const before = w.written[id] ?? {};
    const changed: FieldValues = {};
    for (const [f, v] of Object.entries(desired)) if (before[f] !== v) changed[f] = v;
    if (Object.keys(changed).length) ops.push({ work: w, target: t, kind: 'update', id, fields: changed });
  }

  /** Sends every record operation as sObject Collections (<= 200 records) packed 5 per /composite call. */
  private async write(ops: RecordOp[], round = 0): Promise<void> {
    const groups: { sub: CompositeSubrequest; ops: RecordOp[] }[] = [];
    const base = this.client.base;
    const chunk = <T>(xs: T[]) =>
      Array.from({ length: Math.ceil(xs.length / MAX_COLLECTION) }, (_, i) => xs.slice(i * MAX_COLLECTION, (i + 1) * MAX_COLLECTION));
    for (const part of collectionsByType(
      ops.filter((o) => o.kind === 'update'),
      (o) => o.target.object,
    )) {
      groups.push({
        ops: part,
        sub: {
          method: 'PATCH',
          url: `${base}/composite/sobjects`,
          referenceId: `u${groups.length}`,
          body: { allOrNone: false, records: part.map((o) => ({ attributes: { type: o.target.object }, id: o.id, ...o.fields })) },
        },
      });
    }
    for (const object of TARGET_OBJECTS) {
      for (const part of chunk(ops.filter((o) => o.kind === 'upsert' && o.target.object === object))) {
        groups.push({
          ops: part,
          sub: {
            method: 'PATCH',
            url: `${base}/composite/sobjects/${object}/${RECORD_FIELDS.userId}`,
            referenceId: `c${groups.length}`,
            body: { allOrNone: false, records: part.map((o) => ({ attributes: { type: object }, ...o.fields })) },
          },
        });
      }
    }
    for (const part of collectionsByType(
      ops.filter((o) => o.kind === 'delete'),
      (o) => o.target.object,
    )) {
      groups.push({
        ops: part,
        sub: { method: 'DELETE', url: `${base}/composite/sobjects?allOrNone=false&ids=${part.map((o) => o.id).join(',')}`, referenceId: `d${groups.length}` },
      });
    }
    const resend: RecordOp[] = [];
    for (let i = 0; i < groups.length; i += MAX_HEAVY_PER_COMPOSITE) {
      const part = groups.slice(i, i + MAX_HEAVY_PER_COMPOSITE);
      const res = await this.client.composite(part.map((g) => g.sub));
      res.forEach((r, j) => this.applyResults(part[j].ops, r, round < MAX_ISOLATION_ROUNDS ? resend : null));
    }
    if (resend.length) await this.write(resend, round + 1);
  }

  private applyResults(ops: RecordOp[], r: CompositeSubresponse, resend: RecordOp[] | null) {
    if (r.httpStatusCode >= 400 || (Array.isArray(r.body) && r.body[0]?.errorCode)) {
      const err = Array.isArray(r.body) ? r.body[0] : r.body;
      const code = err?.errorCode ?? `HTTP_${r.httpStatusCode}`;
      for (const o of ops) this.recordFailure(o, code, err?.message ?? '', r.httpStatusCode >= 500 ? 'transient' : classifyCode(code));
      return;
    }
    const problem = unaccounted(r, ops.length);
    if (problem) {
      for (const o of ops) this.recordFailure(o, 'MALFORMED_RESPONSE', problem, 'transient');
      return;
    }
    r.body.forEach((res: any, i: number) => {
      const o = ops[i];
      if (res.success) {
        const id = res.id ?? o.id;
        if (o.kind === 'delete') delete o.work.written[id];
        else o.work.written[id] = { ...(o.work.written[id] ?? {}), ...o.fields, ...o.refused };
        if (this.retrying.has(o.work.user.userKey)) this.resolvedErrors.push(...(this.retrying.get(o.work.user.userKey) ?? []));
      } else {
        const e = res.errors?.[0] ?? { statusCode: 'UNKNOWN_EXCEPTION', message: 'no error detail' };
        const kind = classifyCode(e.statusCode);
        const drop =
          kind === 'permanent' && resend && o.kind !== 'delete'
            ? refusedFields(o.fields, (res as RecordResult).errors, o.kind === 'upsert' ? [RECORD_FIELDS.userId] : [])
            : null;
        if (drop) this.isolate(o, drop, e.statusCode, e.message, resend!);
        else this.recordFailure(o, e.statusCode, e.message, kind);
      }
    });
  }

  /** Dead-letters only the refused fields and resends the record without them (field-isolation.ts). */
  private isolate(o: RecordOp, drop: string[], code: string, message: string, resend: RecordOp[]) {
    const { rest, refused } = withoutFields(o.fields, drop);
    const tried = o.fallback ?? new Set<string>();
    // A mapped field gets its no-consent value in place of the refused one (field-isolation.ts); a
    // no-consent value refused in turn is left out. Only the person's own values are dead-lettered.
    const fallback = noConsentFallback(o.target, refused, tried);
    const own = Object.fromEntries(Object.entries(refused).filter(([f]) => !tried.has(f)));
    const fields = Object.keys(own);
    if (fields.length) {
      const how = fields.every((f) => f in fallback) ? 'written with its no-consent value instead' : 'left out; the rest of the record is sent without it';
      this.recordFailure(o, code, `${message} (field ${fields.join(', ')} ${how})`, 'permanent', own);
    }
    const all = { ...o.refused, ...own };
    if (Object.keys(rest).length || Object.keys(fallback).length)
      resend.push({ ...o, fields: { ...rest, ...fallback }, refused: all, fallback: new Set([...tried, ...Object.keys(fallback)]) });
    else if (o.id) o.work.written[o.id] = { ...(o.work.written[o.id] ?? {}), ...all };
  }

  private recordFailure(o: RecordOp, code: string, message: string, kind: 'transient' | 'permanent', only?: FieldValues) {
    const w = o.work;
    if (kind === 'transient') {
      w.transient ??= `${code}: ${message}`;
      return;
    }
    const key = createHash('sha256')
      .update([w.user.userKey, o.target.object, o.id ?? 'new', code, ...Object.keys(only ?? {})].join('|'))
      .digest('hex')
      .slice(0, 40);
    const didomiId = w.state.facts.didomiId?.v;
    const lastEvent = w.user.events[w.user.events.length - 1];
    const eventId = (lastEvent?.payload as any)?.parameters?.entity?.id ?? (lastEvent?.payload as any)?.parameters?.new_entity?.id ?? null;
    const F = SYNC_ERROR.fields;
    const now = new Date(this.now()).toISOString();
    w.dead.push({
      key,
      userKey: w.user.userKey,
      payload: {
        [F.key]: key,
        [F.organizationUserId]: w.user.userKey.slice(0, 255),
        [F.didomiUserId]: typeof didomiId === 'string' ? didomiId : null,
        [F.eventId]: typeof eventId === 'string' ? eventId.slice(0, 255) : null,
        [F.targetObject]: o.target.object,
        [F.recordId]: o.id ?? null,
        [F.code]: code.slice(0, 255),
        [F.message]: message.slice(0, 32000),
        [F.attempts]: w.user.attempts + 1,
        [F.status]: 'Open',
        [F.firstFailedAt]: w.user.firstFailedAt ?? now,
        [F.lastFailedAt]: now,
        [F.payload]: JSON.stringify(only ?? o.fields).slice(0, 131000),
      } as Json,
    });
  }

  /** Saves each user's outcome: done (with dead letters for permanent failures) or retry later. */
  private async settle(works: Work[]) {
    const completed: CompletedUser[] = [];
    const failed: FailedUser[] = [];
    const dead: DeadLetter[] = [];
    const c = this.d.config;
    let syncedEvents = 0;
    for (const w of works) {
      if (w.transient) {
        const attempts = w.user.attempts + 1;
        let delay = retryDelayMs(attempts, c.RETRY_BACKOFF_SCALE);
        // A timed-out write can still be applied by Salesforce after we gave up on it. Retrying before
        // it lands would let that older write overwrite the retry's newer values (found by the
        // reliability suite's salesforce-faults scenario), so wait until it must have finished.
        if (w.unknownOutcome) delay = Math.max(delay, 2 * c.SF_REQUEST_TIMEOUT_MS);
        failed.push({ userKey: w.user.userKey, nextAttemptAt: new Date(this.now() + delay), error: w.transient });
        this.d.metrics.retriesScheduled.inc({ reason: w.transient.split(':')[0].slice(0, 40) });
        this.lastError = { at: new Date(this.now()).toISOString(), message: w.transient };
        continue;
      }
      completed.push({ userKey: w.user.userKey, doneSeq: w.doneSeq, state: w.state as unknown as Json, written: w.written as unknown as Json });
      dead.push(...w.dead);
      if (w.dead.length) {
        this.d.metrics.eventsFailed.inc(w.user.events.length);
        this.today.failed += w.user.events.length;
        this.lastError = { at: new Date(this.now()).toISOString(), message: String((w.dead[0].payload as any)[SYNC_ERROR.fields.message]) };
      } else {
        syncedEvents += w.user.events.length;
        const now = this.now();
        for (const e of w.user.events) this.d.metrics.endToEndSeconds.observe((now - Date.parse(e.receivedAt)) / 1000);
      }
      this.retrying.delete(w.user.userKey);
    }
    if (dead.length) await this.d.store.addDeadLetters(dead);
    const saved = new Set(await this.d.store.complete(this.workerId, completed));
    if (failed.length) await this.d.store.fail(this.workerId, failed);
    if (saved.size < completed.length)
      this.d.logger.warn({ lost: completed.length - saved.size }, 'leases expired before the batch finished; those users will be processed again');
    this.d.metrics.eventsSynced.inc(syncedEvents);
    this.rollDay();
    this.today.synced += syncedEvents;
    if (syncedEvents) this.lastSuccess = new Date(this.now()).toISOString();
    if (dead.length || this.resolvedErrors.length)
      await this.pushErrors().catch((e) => this.d.logger.warn({ err: (e as Error).message }, 'dead letters not pushed yet; will retry'));
  }

  /** Upserts dead letters into Didomi_Sync_Error__c (by Dead_Letter_Key__c) and resolves retried ones. */
  private async pushErrors(extra: CompositeSubrequest[] = []): Promise<CompositeSubresponse[]> {
    const letters = await this.d.store.unsyncedDeadLetters(MAX_COLLECTION * 3);
    const subs: CompositeSubrequest[] = [...extra];
    const base = this.client.base;
    for (let i = 0; i < letters.length; i += MAX_COLLECTION) {
      subs.push({
        method: 'PATCH',
        url: `${base}/composite/sobjects/${SYNC_ERROR.object}/${SYNC_ERROR.fields.key}`,
        referenceId: `e${i}`,
        body: {
          allOrNone: false,
          records: letters.slice(i, i + MAX_COLLECTION).map((l) => ({ attributes: { type: SYNC_ERROR.object }, ...(l.payload as object) })),
        },
      });
    }
    const resolved = [...new Set(this.resolvedErrors)].slice(0, MAX_COLLECTION);
    this.resolvedErrors = this.resolvedErrors.filter((id) => !resolved.includes(id));
    if (resolved.length) {
      // Before the letters: a retry that failed again re-opens its letter (same key), after this.
      subs.splice(extra.length, 0, {
        method: 'PATCH',
        url: `${base}/composite/sobjects`,
        referenceId: 'resolved',
        body: { allOrNone: false, records: resolved.map((id) => ({ attributes: { type: SYNC_ERROR.object }, id, [SYNC_ERROR.fields.status]: 'Resolved' })) },
      });
    }
    if (!subs.length) return [];
    const res = await this.client.composite(subs);
    const ok: string[] = [];
    res.forEach((r) => {
      if (!r.referenceId.startsWith('e') || !Array.isArray(r.body)) return;
      const offset = Number(r.referenceId.slice(1));
      r.body.forEach((x: any, j: number) => {
        if (x.success) ok.push(letters[offset + j].key);
      });
    });
    if (ok.length) await this.d.store.markDeadLettersSynced(ok);
    return res;
  }

  // ---------- housekeeping: heartbeat, configuration, retry requests (one API call) ----------

  private rollDay() {
    const day = new Date(this.now()).toISOString().slice(0, 10);
    if (this.today.date !== day) this.today = { date: day, accepted: 0, synced: 0, failed: 0 };
  }

  housekeeping(): Promise<void> {
    this.housekeepingRunning ??= this.runHousekeeping().finally(() => {
      this.housekeepingRunning = null;
    });
    return this.housekeepingRunning;
  }

  private async runHousekeeping(): Promise<void> {
    const base = this.client.base;
    const stats = await this.d.store.stats();
    this.rollDay();
    const S = SYNC_STATUS.fields;
    const budget = this.budget.snapshot();
    const status = {
      Name: this.d.config.instanceId.slice(0, 80),
      [S.lastHeartbeat]: new Date(this.now()).toISOString(),
      [S.lastSuccess]: this.lastSuccess,
      [S.statsDate]: this.today.date,
      [S.eventsAcceptedToday]: this.today.accepted,
      [S.eventsSyncedToday]: this.today.synced,
      [S.eventsFailedToday]: this.today.failed,
      [S.queueDepth]: stats.pendingEvents,
      [S.oldestPendingSeconds]: stats.oldestPendingAt ? Math.round((this.now() - Date.parse(stats.oldestPendingAt)) / 1000) : 0,
      [S.apiUsed]: budget.used,
      [S.apiMax]: budget.max,
      [S.lastError]: this.lastError?.message.slice(0, 32000) ?? null,
      [S.lastErrorAt]: this.lastError?.at ?? null,
      [S.version]: VERSION,
    };
    const E = SYNC_ERROR.fields;
    const subs: CompositeSubrequest[] = [
      {
        method: 'PATCH',
        url: `${base}/sobjects/${SYNC_STATUS.object}/${S.instanceId}/${encodeURIComponent(this.d.config.instanceId)}`,
        referenceId: 'status',
        body: status,
      },
      { method: 'GET', url: `${base}/query?q=${encodeURIComponent(TARGETS_SOQL)}`, referenceId: 'targets' },
      { method: 'GET', url: `${base}/query?q=${encodeURIComponent(MAPPINGS_SOQL)}`, referenceId: 'mappings' },
      {
        method: 'GET',
        url: `${base}/query?q=${encodeURIComponent(`SELECT Id, ${E.organizationUserId}, ${E.attempts} FROM ${SYNC_ERROR.object} WHERE ${E.status} = ${soqlString('Retry Requested')} LIMIT 200`)}`,
        referenceId: 'retry',
      },
      ...TARGET_OBJECTS.map((o) => ({ method: 'GET' as const, url: `${base}/sobjects/${o}/describe`, referenceId: `describe${o}` })),
    ];
    let res: CompositeSubresponse[];
    try {
      res = await this.client.composite(subs);
    } catch (e) {
      this.lastError = { at: new Date(this.now()).toISOString(), message: (e as Error).message };
      this.d.logger.warn({ err: (e as Error).message }, 'housekeeping call failed');
      throw e;
    }
    const by = new Map(res.map((r) => [r.referenceId, r]));
    const ok = (r?: CompositeSubresponse) => r && r.httpStatusCode < 400;
    if (ok(by.get('targets')) && ok(by.get('mappings'))) {
      const describes = new Map<string, any>();
      for (const o of TARGET_OBJECTS) if (ok(by.get(`describe${o}`))) describes.set(o, by.get(`describe${o}`)!.body);
      const cfg = buildConfig(by.get('targets')!.body.records, by.get('mappings')!.body.records, describes);
      if (cfg.fingerprint !== this.config?.fingerprint)
        this.d.logger.info({ targets: cfg.targets.map((t) => `${t.object}:${t.mappings.length}`), problems: cfg.problems.length }, 'configuration loaded');
      this.config = cfg;
      await this.reportProblems(cfg);
      this.notify();
    } else {
      this.d.logger.error({ targets: by.get('targets')?.body, mappings: by.get('mappings')?.body }, 'cannot read sync targets and mappings');
    }
    const retry = by.get('retry');
    if (ok(retry) && retry!.body.records.length) {
      const keys: string[] = [];
      for (const r of retry!.body.records) {
        const k = r[E.organizationUserId];
        if (!k || this.retrying.get(k)?.includes(r.Id)) continue;
        this.retrying.set(k, [...(this.retrying.get(k) ?? []), r.Id]);
        keys.push(k);
      }
      if (keys.length) {
        await this.d.store.requeue(keys);
        this.d.logger.info({ users: keys.length }, 'retry requested from the org');
        this.notify();
      }
    }
    if (!ok(by.get('status'))) this.d.logger.warn({ body: by.get('status')?.body }, 'heartbeat not written');
    if ((await this.d.store.stats()).deadLettersUnsynced || this.resolvedErrors.length) await this.pushErrors().catch(() => undefined);
  }

  /** Invalid mappings become Didomi_Sync_Error__c records (code INVALID_MAPPING), once per configuration. */
  private async reportProblems(cfg: SyncConfig) {
    const sig = JSON.stringify(cfg.problems);
    if (sig === this.reportedProblems) return;
    this.reportedProblems = sig;
    if (!cfg.problems.length) return;
    const F = SYNC_ERROR.fields;
    const now = new Date(this.now()).toISOString();
    await this.d.store.addDeadLetters(
      cfg.problems.map((p) => {
        const key = createHash('sha256').update(`mapping|${p.mappingId}|${p.message}`).digest('hex').slice(0, 40);
        return {
          key,
          userKey: `mapping:${p.mappingId}`,
          payload: {
            [F.key]: key,
            [F.targetObject]: p.targetObject,
            [F.recordId]: p.mappingId,
            [F.code]: 'INVALID_MAPPING',
            [F.message]: p.message,
            [F.attempts]: 1,
            [F.status]: 'Open',
            [F.firstFailedAt]: now,
            [F.lastFailedAt]: now,
            [F.payload]: JSON.stringify({ field: p.field }),
          },
        };
      }),
    );
    this.d.logger.warn({ problems: cfg.problems.map((p) => `${p.targetObject}.${p.field}: ${p.message}`) }, 'invalid mappings skipped');
  }

  /** For logs: never the raw organization_user_id unless debugging. */
  hash(userKey: string) {
    return hashUserKey(userKey, this.d.config.LOG_LEVEL);
  }
}
