// Dead letters go into the org as Didomi_Sync_Error__c (upserted by Dead_Letter_Key__c), and letters
// whose retry succeeded are marked Resolved, in one composite call. This is their one pusher: right
// after a batch or a configuration refresh adds letters, and as the `dead-letters` housekeeping task
// for what is left (a push Salesforce refused, letters of a previous run). One push at a time, so a
// letter is never sent twice.
import { SYNC_ERROR } from '../salesforce/api-names.ts';
import type { CompositeSubrequest, SaveResult } from '../salesforce/client.ts';
import type { Store } from '../store/types.ts';
import type { SalesforceApi } from './clients.ts';
import { MAX_COLLECTION } from './collections.ts';
import type { HousekeepingTask } from './housekeeping.ts';

type PusherStore = Pick<Store, 'unsyncedDeadLetters' | 'markDeadLettersSynced' | 'stats'>;

export class ErrorPusher {
  private readonly sf: SalesforceApi;
  private readonly store: PusherStore;
  /** Didomi_Sync_Error__c ids whose retry succeeded, to mark Resolved. */
  private resolved: string[] = [];
  /** The push in progress or last ended (never rejects), and the one waiting behind it. */
  private tail: Promise<void> = Promise.resolve();
  private waiting: Promise<void> | null = null;

  constructor(sf: SalesforceApi, store: PusherStore) {
    this.sf = sf;
    this.store = store;
  }

  resolve(errorIds: string[]) {
    this.resolved.push(...errorIds);
  }

  get hasResolved(): boolean {
    return this.resolved.length > 0;
  }

  /**
   * Pushes the unsynced letters and the resolved ids. While a push is in flight the next one waits
   * for it (so it reads only what the first has not already marked synced), and callers meanwhile share that one.
   */
  push(): Promise<void> {
    if (this.waiting) return this.waiting;
    const next = this.tail.then(() => {
      this.waiting = null;
      return this.pushNow();
    });
    this.waiting = next;
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** The `dead-letters` housekeeping task: pushes whatever is left, every `everyMs`, and once at start. */
  task(everyMs: number): HousekeepingTask {
    return {
      name: 'dead-letters',
      everyMs: () => everyMs,
      run: async () => {
        if ((await this.store.stats()).deadLettersUnsynced || this.hasResolved) await this.push();
      },
    };
  }

  private async pushNow(): Promise<void> {
    const letters = await this.store.unsyncedDeadLetters(MAX_COLLECTION * 3);
    const subs: CompositeSubrequest[] = [];
    const base = this.sf.base;
    const resolved = [...new Set(this.resolved)].slice(0, MAX_COLLECTION);
    this.resolved = this.resolved.filter((id) => !resolved.includes(id));
    if (resolved.length) {
      // Before the letters: a retry that failed again re-opens its letter (same key), after this.
      subs.push({
        method: 'PATCH',
        url: `${base}/composite/sobjects`,
        referenceId: 'resolved',
        body: { allOrNone: false, records: resolved.map((id) => ({ attributes: { type: SYNC_ERROR.object }, id, [SYNC_ERROR.fields.status]: 'Resolved' })) },
      });
    }
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
    if (!subs.length) return;
    const res = await this.sf.composite(subs);
    const ok: string[] = [];
    for (const r of res) {
      if (!r.referenceId.startsWith('e') || !Array.isArray(r.body)) continue;
      const offset = Number(r.referenceId.slice(1));
      (r.body as SaveResult[]).forEach((x, j) => {
        if (x?.success && letters[offset + j]) ok.push(letters[offset + j].key);
      });
    }
    if (ok.length) await this.store.markDeadLettersSynced(ok);
  }
}
