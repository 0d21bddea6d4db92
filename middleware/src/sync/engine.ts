// The sync engine: wires the worker loop (worker-loop.ts) to what one batch does: merge each claimed
// user's consent state (work.ts), match their records (match.ts), plan record operations (plan.ts),
// write them (write.ts) and settle each user: done, retry later (backoff), or dead letter
// (dead-letter.ts); then the after-write steps (after-write.ts: the consent data model). Housekeeping
// (housekeeping.ts) keeps the heartbeat, the configuration (with retry and bulk requests), the dead
// letters left unpushed (error-push.ts) and the Didomi catalogue on their own timers. Clients come
// from service.ts (clients.ts).
import { SalesforceError } from '../salesforce/errors.ts';
import { SYNC_ERROR } from '../salesforce/api-names.ts';
import type { ClaimedUser, CompletedUser, DeadLetter, FailedUser, Json } from '../store/types.ts';
import type { SyncConfig, Target } from './config-types.ts';
import type { AfterWriteStep } from './after-write.ts';
import { carryOutBulkRequests } from './bulk-requests.ts';
import { CatalogueSync } from './catalogue-sync.ts';
import type { SyncClients } from './clients.ts';
import { ConsentModelSync } from './consent-model-sync.ts';
import { readOrg } from './config-refresh.ts';
import { mappingDeadLetter, recordDeadLetter } from './dead-letter.ts';
import type { SyncEngine, SyncEngineDeps } from './engine-types.ts';
import { ErrorPusher } from './error-push.ts';
import { SyncHealth } from './health.ts';
import { writeHeartbeat } from './heartbeat.ts';
import { Housekeeping, type HousekeepingTask } from './housekeeping.ts';
import { isLinked, reconcileWritten } from './link-cache.ts';
import { matchRecords, type Unmatched } from './match.ts';
import { planBatch, type PlanStep } from './plan.ts';
import type { FieldValues } from './project.ts';
import { retryDelayMs } from './retry.ts';
import { reverseRunner, type ReverseRunner } from './reverse-runner.ts';
import { WorkerLoop } from './worker-loop.ts';
import { workOf, type RecordOp, type Work } from './work.ts';
import { writeRecords, type WriteOutcomes } from './write.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createSyncEngine(deps: SyncEngineDeps): SyncEngine {
  return new Engine(deps);
}

class Engine implements SyncEngine {
  private readonly d: SyncEngineDeps;
  private readonly now: () => number;
  private readonly clients: SyncClients;
  private readonly workerId: string;
  private readonly loop: WorkerLoop;
  private readonly housekeeping: Housekeeping;
  private readonly health: SyncHealth;
  private readonly errors: ErrorPusher;
  /** Extension point: steps that add record operations to each batch's plan (plan.ts). */
  private readonly planSteps: PlanStep[];
  /** Extension point: writes that follow the batch's record writes (after-write.ts); the consent data model first. */
  private readonly afterWrite: AfterWriteStep[];
  private config: SyncConfig | null = null;
  private reportedProblems = '';
  /** Salesforce -> Didomi: change events or the poller, by REVERSE_MODE (reverse-runner.ts). */
  private readonly reverse: ReverseRunner;
  /** Users whose dead letters the admin asked to retry: user key -> error record ids. */
  private retrying = new Map<string, string[]>();

  constructor(deps: SyncEngineDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
    this.clients = deps.clients;
    this.planSteps = deps.planSteps ?? [];
    this.afterWrite = [new ConsentModelSync(this.clients.salesforce).step, ...(deps.afterWriteSteps ?? [])];
    const c = deps.config;
    this.workerId = `${c.instanceId}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.health = new SyncHealth(this.now);
    this.errors = new ErrorPusher(this.clients.salesforce, deps.store);
    this.loop = new WorkerLoop({
      store: deps.store,
      workerId: this.workerId,
      logger: deps.logger,
      maxUsers: c.BATCH_MAX_USERS,
      leaseMs: c.LEASE_MS,
      minBatchIntervalMs: c.BATCH_WAIT_MS,
      fillLingerMs: c.BATCH_LINGER_MS,
      // A fifth of the shortest retry delay (5 s), so a retry never waits much past its due time.
      idlePollMs: Math.min(1000, Math.max(10, 1000 * c.RETRY_BACKOFF_SCALE)),
      ready: () => !!this.config,
      // Checked before claiming: while the budget is short, batches grow instead of waiting with their leases held.
      budgetDelayMs: (calls) => this.clients.budget.delayMs(calls),
      process: (users, leases) => this.process(users, leases),
    });
    this.reverse = reverseRunner({
      ...{ config: c, clients: this.clients, store: deps.store, logger: deps.logger, metrics: deps.metrics },
      ...{ holder: this.workerId, syncConfig: () => this.config, now: this.now },
    });
    this.housekeeping = new Housekeeping([...this.housekeepingTasks(), ...(deps.housekeepingTasks ?? [])], deps.logger);
  }

  /** Configuration first (the loop waits for it), then the heartbeat; Salesforce -> Didomi when configured. */
  private housekeepingTasks(): HousekeepingTask[] {
    const c = this.d.config;
    const tasks: HousekeepingTask[] = [
      // Until a configuration has been read, every 2 s at most, so the service starts syncing soon after Salesforce is back.
      { name: 'config', everyMs: () => (this.config ? c.CONFIG_REFRESH_MS : Math.min(c.CONFIG_REFRESH_MS, 2000)), run: () => this.refreshConfig() },
      { name: 'heartbeat', everyMs: () => c.HEARTBEAT_MS, run: () => this.heartbeat() },
      // What a batch or a refresh could not push at once, at the pace both tasks above used to push it.
      this.errors.task(Math.min(c.HEARTBEAT_MS, c.CONFIG_REFRESH_MS)),
    ];
    tasks.push(...this.reverse.tasks);
    const didomi = this.clients.didomi;
    if (didomi) {
      // Didomi's catalogue for the admin tab; after a failed read, retried at the pace the old shared housekeeping timer had.
      const retryMs = Math.min(c.HEARTBEAT_MS, c.CONFIG_REFRESH_MS);
      tasks.push(
        new CatalogueSync({ client: this.clients.salesforce, didomi, logger: this.d.logger, now: this.now, everyMs: c.CATALOGUE_REFRESH_MS, retryMs }).task,
      );
    }
    return tasks;
  }

  /**
   * Starts the loop, the change-event subscriber and housekeeping at once; resolves when housekeeping's
   * first runs (configuration, heartbeat, dead letters) have ended. The loop claims nothing before the
   * first configuration is read (ready()), and the subscriber waits for its targets.
   */
  async start(): Promise<void> {
    const firstRuns = this.housekeeping.start();
    this.loop.start(this.d.config.WORKER_CONCURRENCY);
    this.reverse.start();
    await firstRuns;
  }

  async stop(graceMs = this.d.config.SHUTDOWN_GRACE_MS): Promise<void> {
    // The poller gives back its leases once its last poll has finished.
    const done = Promise.all([this.loop.stop(), this.housekeeping.stop().then(() => this.reverse.stop())]);
    await Promise.race([done, sleep(graceMs)]);
    await this.d.store.release(this.workerId).catch(() => undefined); // whatever is still leased goes back to the queue
  }

  notify(newEvents = 0, userKey?: string): void {
    this.loop.notify(newEvents, userKey);
  }

  countAccepted(n: number) {
    this.health.accepted(n);
  }

  async checkSalesforce(): Promise<void> {
    await this.clients.checkSession();
  }

  // ---------- one batch ----------

  /** One batch; resolves to the API calls it made (the loop expects the next batch to cost as much). */
  private async process(users: ClaimedUser[], leases?: { stop(): void }): Promise<number> {
    const started = this.now();
    const sf = this.clients.salesforce;
    const callsBefore = sf.calls;
    const config = this.config!;
    const works = users.map(workOf);
    let written = 0;
    let writing = false;
    try {
      // A target that cannot be matched fails alone: its users get a dead letter, the other targets are written.
      const unmatched: Unmatched = new Map(config.unusable.map((u) => [u.target.object, { target: u.target, code: 'INVALID_MAPPING', message: u.message }]));
      // Whoever the written cache shows linked is looked up by Didomi_User_Id__c alone (link-cache.ts).
      const byKey = new Map(works.map((w) => [w.user.userKey, w]));
      const linked = (t: Target, key: string) => isLinked(t, key, byKey.get(key)?.written ?? {});
      const matches = await matchRecords(sf, config.targets, [...byKey.keys()], unmatched, linked);
      reconcileWritten(works, config.targets, matches);
      for (const w of works) for (const u of unmatched.values()) this.fail({ work: w, target: u.target, fields: {} }, u.code, u.message, 'permanent');
      const plan = planBatch(
        config.targets.filter((t) => !unmatched.has(t.object)),
        works,
        matches,
        this.planSteps,
      );
      for (const s of plan.skipped) this.d.metrics.usersSkipped.inc({ reason: s.reason, object: s.object });
      for (const f of plan.failures) this.fail({ work: f.work, target: f.target, id: f.id, fields: {} }, f.code, f.message, f.kind);
      written = plan.ops.length;
      writing = true;
      await writeRecords(sf, plan.ops, this.outcomes);
      const write = (more: RecordOp[]) => writeRecords(sf, more, this.outcomes);
      for (const step of this.afterWrite) written += await step({ config, works, matches, write });
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
        apiCalls: sf.calls - callsBefore,
        ms: this.now() - started,
        retried: works.filter((w) => w.transient).length,
        deadLetters: works.reduce((n, w) => n + w.dead.length, 0),
      },
      'batch',
    );
    return sf.calls - callsBefore;
  }

  private readonly outcomes: WriteOutcomes = {
    written: (o, id) => {
      if (o.kind === 'delete') delete o.work.written[id];
      else o.work.written[id] = { ...(o.work.written[id] ?? {}), ...o.fields, ...o.refused };
      const retried = this.retrying.get(o.work.user.userKey);
      if (retried) this.errors.resolve(retried);
    },
    failed: (o, code, message, kind, only) => this.fail(o, code, message, kind, only),
  };

  /** A transient failure retries the user later; a permanent one dead-letters this record (or only its `only` fields). */
  private fail(o: Pick<RecordOp, 'work' | 'target' | 'id' | 'fields'>, code: string, message: string, kind: 'transient' | 'permanent', only?: FieldValues) {
    if (kind === 'transient') o.work.transient ??= `${code}: ${message}`;
    else o.work.dead.push(recordDeadLetter(o, code, message, new Date(this.now()).toISOString(), only));
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
        this.health.error(w.transient);
        continue;
      }
      completed.push({ userKey: w.user.userKey, doneSeq: w.doneSeq, state: w.state as unknown as Json, written: w.written as unknown as Json });
      dead.push(...w.dead);
      if (w.dead.length) {
        this.d.metrics.eventsFailed.inc(w.user.events.length);
        this.health.failed(w.user.events.length, String((w.dead[0].payload as Record<string, unknown>)[SYNC_ERROR.fields.message]));
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
    this.health.synced(syncedEvents);
    if (dead.length || this.errors.hasResolved)
      await this.errors.push().catch((e) => this.d.logger.warn({ err: (e as Error).message }, 'dead letters not pushed yet; will retry'));
  }

  // ---------- housekeeping tasks ----------

  private async heartbeat(): Promise<void> {
    try {
      await writeHeartbeat({ clients: this.clients, store: this.d.store, health: this.health, instanceId: this.d.config.instanceId, now: this.now });
    } catch (e) {
      this.health.error((e as Error).message);
      this.d.logger.warn({ err: (e as Error).message }, 'heartbeat not written');
    }
  }

  /** Targets, mappings and describes; then the admin's retry requests re-queue their users, and bulk requests are carried out. */
  private async refreshConfig(): Promise<void> {
    let org;
    try {
      org = await readOrg(this.clients.salesforce);
    } catch (e) {
      this.health.error((e as Error).message);
      this.d.logger.warn({ err: (e as Error).message }, 'housekeeping call failed');
      return;
    }
    const cfg = org.config;
    if (cfg) {
      if (cfg.fingerprint !== this.config?.fingerprint)
        this.d.logger.info({ targets: cfg.targets.map((t) => `${t.object}:${t.mappings.length}`), problems: cfg.problems.length }, 'configuration loaded');
      this.config = cfg;
      this.d.metrics.configTargets.set(cfg.targets.length);
      await this.reportProblems(cfg);
      this.notify();
    } else {
      this.d.logger.error(org.failures, 'cannot read sync targets and mappings');
    }
    const keys: string[] = [];
    for (const r of org.retryRequests ?? []) {
      if (this.retrying.get(r.userKey)?.includes(r.id)) continue;
      this.retrying.set(r.userKey, [...(this.retrying.get(r.userKey) ?? []), r.id]);
      keys.push(r.userKey);
    }
    if (keys.length) {
      await this.d.store.requeue(keys);
      this.d.logger.info({ users: keys.length }, 'retry requested from the org');
      this.notify();
    }
    // Retry / dismiss every dead letter of a code (bulk-requests.ts), read in the same composite; retried rows are re-queued next refresh.
    if (org.bulkRequests.length)
      await carryOutBulkRequests(org.bulkRequests, { client: this.clients.salesforce, logger: this.d.logger, now: this.now }).catch((e) =>
        this.d.logger.warn({ err: (e as Error).message }, 'bulk requests not carried out; the next refresh tries again'),
      );
  }

  /** Invalid mappings become Didomi_Sync_Error__c records (code INVALID_MAPPING), once per configuration. */
  private async reportProblems(cfg: SyncConfig) {
    const sig = JSON.stringify(cfg.problems);
    if (sig === this.reportedProblems) return;
    this.reportedProblems = sig;
    if (!cfg.problems.length) return;
    const now = new Date(this.now()).toISOString();
    await this.d.store.addDeadLetters(cfg.problems.map((p) => mappingDeadLetter(p, now)));
    this.d.logger.warn({ problems: cfg.problems.map((p) => `${p.targetObject}.${p.field}: ${p.message}`) }, 'invalid mappings skipped');
    await this.errors.push().catch(() => undefined); // at once; the dead-letters task retries what Salesforce refuses
  }
}
