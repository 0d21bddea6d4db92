// Keeps Didomi's catalogue (didomi/catalogue.ts) in the org as Didomi_Catalogue_Entry__c records,
// which the admin tab reads with Lightning Data Service (GraphQL): a package object rather than
// custom metadata (which the REST API cannot write) or a custom setting (no long text, no
// GraphQL), so no Apex is needed on either side. A housekeeping task (housekeeping.ts) on its own
// timer, every CATALOGUE_REFRESH_MS (sooner again after a failed read); written only when the
// content changed (external-id upserts of 200 records per collection, 5 per /composite call), so an
// unchanged catalogue costs no Salesforce call.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { CATALOGUE } from '../salesforce/api-names.ts';
import type { CompositeSubrequest, SaveResult } from '../salesforce/client.ts';
import { entryKey, fetchCatalogue, type CatalogueEntry } from '../didomi/catalogue.ts';
import type { DidomiApi } from '../didomi/api-client.ts';
import type { SalesforceApi } from './clients.ts';
import type { HousekeepingTask } from './housekeeping.ts';

const F = CATALOGUE.fields;
const COLLECTION = 200;
const PER_CALL = 5;

export interface CatalogueSyncDeps {
  client: SalesforceApi;
  didomi: DidomiApi;
  logger: Logger;
  now: () => number;
  everyMs: number;
  /** After a failed refresh, the next one comes this soon (at most everyMs). */
  retryMs: number;
}

export class CatalogueSync {
  private readonly d: CatalogueSyncDeps;
  private lastHash = '';
  private failed = false;

  constructor(d: CatalogueSyncDeps) {
    this.d = d;
  }

  /** At start, then every everyMs; after a failure, every retryMs until one succeeds. */
  readonly task: HousekeepingTask = {
    name: 'catalogue',
    everyMs: () => (this.failed ? Math.min(this.d.retryMs, this.d.everyMs) : this.d.everyMs),
    run: () => this.refresh(),
  };

  /** Reads the catalogue from Didomi and upserts it when it changed. Never throws. */
  async refresh(): Promise<void> {
    try {
      const { entries, skipped } = await fetchCatalogue(this.d.didomi);
      this.failed = false;
      const hash = createHash('sha256').update(JSON.stringify(entries)).digest('hex');
      if (hash === this.lastHash) return;
      const failed = await this.publish(entries);
      if (!failed) this.lastHash = hash;
      this.d.logger.info({ entries: entries.length, skipped, failed }, 'Didomi catalogue copied to the org');
    } catch (e) {
      this.failed = true; // try again soon
      this.d.logger.warn({ err: (e as Error).message }, 'Didomi catalogue not refreshed; will try again');
    }
  }

  /** Upserts every entry on Entry_Key__c; returns how many records failed. */
  private async publish(entries: CatalogueEntry[]): Promise<number> {
    const seenAt = new Date(this.d.now()).toISOString();
    const records = entries.map((e) => ({
      attributes: { type: CATALOGUE.object },
      Name: (e.names.en ?? Object.values(e.names)[0] ?? e.id).slice(0, 80),
      [F.kind]: e.kind,
      [F.didomiId]: e.id,
      [F.preferenceId]: e.preferenceId,
      [F.key]: entryKey(e),
      [F.names]: JSON.stringify(e.names),
      [F.lastSeenAt]: seenAt,
    }));
    const subs: CompositeSubrequest[] = [];
    for (let i = 0; i < records.length; i += COLLECTION)
      subs.push({
        method: 'PATCH',
        url: `${this.d.client.base}/composite/sobjects/${CATALOGUE.object}/${F.key}`,
        referenceId: `cat${i / COLLECTION}`,
        body: { allOrNone: false, records: records.slice(i, i + COLLECTION) },
      });
    let failed = 0;
    for (let i = 0; i < subs.length; i += PER_CALL)
      for (const r of await this.d.client.composite(subs.slice(i, i + PER_CALL))) {
        if (r.httpStatusCode >= 400 || !Array.isArray(r.body)) failed += COLLECTION;
        else failed += (r.body as SaveResult[]).filter((x) => !x.success).length;
      }
    return failed;
  }
}
