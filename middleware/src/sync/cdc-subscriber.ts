// Salesforce -> Didomi through Change Data Capture (Pub/Sub API): every change event names the
// fields a commit changed and the user who committed it (ChangeEventHeader.changedFields,
// commitUser), so a refusal a person commits is seen even when a sync write follows at once, at no
// REST API cost (one small query only when a person's change touches a mapped consent field, to read
// the record's Didomi user id and last synced state).
// Position: the last processed replay id and commit time per object, in the store, saved after each
// batch; a restart resumes from it. Salesforce keeps events 72 h (Pub/Sub API guide, "Event Message
// Durability") and refuses an older replay id (replayid.corrupted): then a one-off SOQL catch-up on
// SystemModstamp since the last processed commit time (the poller's query), counted in /metrics,
// and the stream restarts from the earliest retained event, skipping what the catch-up covered.
// Replicas: one subscriber per object holds a lease in the store; the others wait to take over.
import type { Logger } from 'pino';
import type { SalesforceApi } from './clients.ts';
import type { PubSubClient } from '../salesforce/pubsub-client.ts';
import { isPermissionDenied, PubSubError, REPLAY_ID_CORRUPTED, type ChangeEvent, type Subscription } from '../salesforce/pubsub-types.ts';
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import { inList, soqlIdent } from '../salesforce/soql.ts';
import type { DidomiApi } from '../didomi/api-client.ts';
import type { Store } from '../store/types.ts';
import type { SyncConfig, Target } from './config-types.ts';
import { refusalsOf, ReverseSync, sendRefusal } from './reverse.ts';

const BATCH = 100; // Pub/Sub API: at most 100 events per FetchRequest

export interface CdcSubscriberDeps {
  pubsub: PubSubClient;
  client: Pick<SalesforceApi, 'query' | 'userId'>;
  store: Store;
  didomi: DidomiApi;
  config: () => SyncConfig | null;
  logger: Logger;
  logLevel: string;
  holder: string;
  leaseMs: number;
  /** Backoff after a stream error, and between tries while Didomi is unavailable. */
  retryMs: number;
  onSent: (outcome: 'sent' | 'refused' | 'retry') => void;
  onCatchUp: (object: string) => void;
  onEvent: (object: string, outcome: 'refusal' | 'own_write' | 'ignored' | 'catch_up_covered' | 'undecodable') => void;
  now?: () => number;
}

export const streamOf = (object: string) => `cdc:${object}`;

/** The mapped consent fields a change event changed, with the values the person committed. */
function consentChanges(targets: Target[], e: ChangeEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of targets)
    for (const m of t.mappings) if (m.kind === 'Purpose' && m.fieldType === 'boolean' && e.changedFields.includes(m.field)) out[m.field] = e.values[m.field];
  return out;
}

export class CdcSubscriber {
  private readonly d: CdcSubscriberDeps;
  private readonly now: () => number;
  private stopping = false;
  private readonly running = new Map<string, Promise<void>>();
  private readonly subs = new Set<Subscription>();
  private supervisor: Promise<void> | null = null;
  private readonly wakers = new Set<() => void>();

  constructor(d: CdcSubscriberDeps) {
    this.d = d;
    this.now = d.now ?? Date.now;
  }

  start() {
    this.supervisor = (async () => {
      while (!this.stopping) {
        for (const t of this.d.config()?.targets ?? [])
          if (!this.running.has(t.object))
            this.running.set(
              t.object,
              this.run(t.object).finally(() => this.running.delete(t.object)),
            );
        await this.pause(this.running.size ? this.d.leaseMs : Math.min(this.d.retryMs, 1000));
      }
    })();
  }

  async stop() {
    this.stopping = true;
    for (const w of [...this.wakers]) w();
    for (const s of this.subs) s.close();
    await this.supervisor;
    await Promise.all(this.running.values());
    this.d.pubsub.close();
  }

  private pause(ms: number) {
    return new Promise<void>((r) => {
      const wake = () => {
        clearTimeout(t);
        this.wakers.delete(wake);
        r();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** One object's stream, for as long as the service runs: lease, position, subscription, reconnects. */
  private async run(object: string) {
    const stream = streamOf(object);
    let backoff = this.d.retryMs;
    while (!this.stopping) {
      if (!(await this.d.store.holdReverseLease(stream, this.d.holder, this.d.leaseMs, this.now()).catch(() => false))) {
        await this.pause(this.d.leaseMs / 3);
        continue;
      }
      try {
        await this.subscribeOnce(object, stream);
        backoff = this.d.retryMs;
      } catch (e) {
        if (this.stopping) break;
        if (isPermissionDenied(e))
          // CDC needs View All Records on the object (the package permission set grants it on Lead, Contact, Account).
          this.d.logger.error(
            { err: e.message, object },
            `the integration user may not receive ${object} change events: grant it View All Records on ${object}`,
          );
        else this.d.logger.warn({ err: (e as Error).message, object }, 'change event stream ended; resubscribing from the saved position');
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, 60_000);
      }
    }
    await this.d.store.releaseReverseLease(stream, this.d.holder).catch(() => undefined);
  }

  private async subscribeOnce(object: string, stream: string) {
    const pos = await this.d.store.reversePosition(stream);
    let cut: number | null = null; // events committed up to here were covered by a catch-up query
    let sub: Subscription | undefined;
    const handler = (events: ChangeEvent[]) => this.handle(object, stream, events, cut, () => sub!);
    const topic = `/data/${object}ChangeEvent`;
    if (pos?.replayId) {
      try {
        sub = await this.open(topic, { replayId: Buffer.from(pos.replayId, 'base64') }, handler);
        return await this.follow(stream, sub);
      } catch (e) {
        if (!(e instanceof PubSubError && e.errorCode === REPLAY_ID_CORRUPTED)) throw e;
        this.d.logger.warn({ object }, 'the last processed change event is beyond the 72 h retention: catching up with a query');
      }
    }
    // No usable replay id: catch up by query from the last known commit time (none on a first start), then
    // replay what the bus still holds, skipping what the query covered.
    cut = this.now();
    if (pos?.commitAt) await this.catchUp(object, pos.commitAt);
    if (!(await this.d.store.saveReversePosition(stream, this.d.holder, { replayId: null, commitAt: cut }))) return;
    sub = await this.open(topic, { preset: 'EARLIEST' }, handler);
    await this.follow(stream, sub);
  }

  private async open(topic: string, from: Parameters<PubSubClient['subscribe']>[1], handler: Parameters<PubSubClient['subscribe']>[2]) {
    const sub = await this.d.pubsub.subscribe(topic, from, handler);
    this.subs.add(sub);
    sub.done.finally(() => this.subs.delete(sub)).catch(() => undefined);
    sub.request(BATCH);
    return sub;
  }

  /** Waits for the stream to end, renewing the lease meanwhile; a lost lease closes it. */
  private async follow(stream: string, sub: Subscription) {
    const renew = setInterval(async () => {
      const held = await this.d.store.holdReverseLease(stream, this.d.holder, this.d.leaseMs, this.now()).catch(() => true);
      if (!held) sub.close();
    }, this.d.leaseMs / 3);
    try {
      await sub.done;
    } finally {
      clearInterval(renew);
    }
  }

  private async catchUp(object: string, since: number) {
    this.d.onCatchUp(object);
    let retry = false;
    const poller = new ReverseSync({ ...this.d, onSent: (o) => ((retry ||= o === 'retry'), this.d.onSent(o)), now: this.now }, this.now() - since);
    do {
      retry = false;
      await poller.poll([object]);
      if (retry) await this.pause(this.d.retryMs);
    } while (retry && !this.stopping);
  }

  private async handle(object: string, stream: string, events: ChangeEvent[], cut: number | null, sub: () => Subscription) {
    const targets = (this.d.config()?.targets ?? []).filter((t) => t.object === object);
    const me = await this.d.client.userId();
    const candidates: { e: ChangeEvent; changes: Record<string, unknown> }[] = [];
    for (const e of events) {
      if (e.changeType === 'UNDECODABLE') {
        this.d.onEvent(object, 'undecodable');
        this.d.logger.error({ object, replayId: e.replayId.toString('base64') }, 'a change event payload did not decode; skipped');
      } else if (cut !== null && e.commitTimestamp <= cut) this.d.onEvent(object, 'catch_up_covered');
      else if (e.commitUser === me)
        this.d.onEvent(object, 'own_write'); // the sync's own write: never echoed
      else {
        const changes = e.changeType === 'UPDATE' ? consentChanges(targets, e) : {};
        if (Object.keys(changes).length) candidates.push({ e, changes });
        else this.d.onEvent(object, 'ignored');
      }
    }
    let abandoned = false; // a refusal still unsent when the service stops: its event must be replayed on the next start
    if (candidates.length) {
      // The Didomi user id and the state Didomi last gave are unchanged fields (null in the event): read them.
      const ids = [...new Set(candidates.flatMap((c) => c.e.recordIds))];
      const rows = await this.d.client.query<Record<string, unknown>>(
        `SELECT Id, ${RECORD_FIELDS.userId}, ${RECORD_FIELDS.snapshot} FROM ${soqlIdent(object)} WHERE Id IN ${inList(ids)}`,
      );
      const byId = new Map(rows.map((r) => [String(r.Id).slice(0, 15), r]));
      for (const { e, changes } of candidates) {
        this.d.onEvent(object, 'refusal');
        for (const id of e.recordIds) {
          const row = byId.get(id.slice(0, 15));
          if (!row) continue; // deleted since
          for (const t of targets)
            for (const r of refusalsOf(t, { ...row, ...changes }))
              for (;;) {
                if ((await sendRefusal(this.d, r, object, id)) !== 'retry') break;
                if (this.stopping) {
                  abandoned = true;
                  break;
                }
                await this.pause(this.d.retryMs);
              }
        }
      }
    }
    // Only delivered events move the position: a keepalive's latest replay id may be ahead of events not yet delivered.
    const last = events.at(-1);
    const position = last ? { replayId: last.replayId.toString('base64'), commitAt: last.commitTimestamp } : null;
    // Saved even while stopping: what was sent must not be sent again after a restart (stop() waits for this).
    if (abandoned) return;
    if (position && !(await this.d.store.saveReversePosition(stream, this.d.holder, position))) {
      this.d.logger.warn({ object }, 'another replica took over the change event stream');
      return sub().close();
    }
    if (events.length && !this.stopping) sub().request(events.length);
  }
}
