// Salesforce -> Didomi: when a person's refusal is recorded in Salesforce (a rep ticks Email Opt Out
// after a call), tell Didomi, so the next Didomi event cannot bring the old consent back.
// Detection polls SOQL on SystemModstamp, the fallback reference/salesforce.md names for Change
// Data Capture, and skips the integration user's own writes (LastModifiedById). A field counts as
// changed in Salesforce when it refuses a consent that the Didomi state this service last wrote
// (Didomi_Consents__c) holds as given. Only refusals travel: granting consent needs the person's own action in
// Didomi (proof of consent), never a checkbox ticked by someone else. Didomi then sends its usual
// webhook, which brings the new state back through the store: no loop, since that write is ours.
import type { Logger } from 'pino';
import { RECORD_FIELDS } from '../salesforce/api-names.ts';
import type { SalesforceApi } from './clients.ts';
import { soqlIdent, soqlString } from '../salesforce/soql.ts';
import { DidomiApiError, type DidomiApi } from '../didomi/api-client.ts';
import { DEFAULT_REGULATION } from '../didomi/facts.ts';
import { hashUserKey } from '../observability/logger.ts';
import type { SyncConfig, Target } from './config-types.ts';
import type { Store } from '../store/types.ts';

const PAGE = 200;
const MAX_PAGES = 5;

export interface ReverseSyncDeps {
  client: Pick<SalesforceApi, 'query' | 'userId'>;
  didomi: DidomiApi;
  config: () => SyncConfig | null;
  logger: Logger;
  logLevel: string;
  onSent: (outcome: 'sent' | 'refused' | 'retry') => void;
  now?: () => number;
  /** Where the watermark is kept across restarts (and which replica polls: one lease per object); in memory without it. */
  persist?: { store: Pick<Store, 'holdReverseLease' | 'releaseReverseLease' | 'reversePosition' | 'saveReversePosition'>; holder: string; leaseMs: number };
}

/** A refusal to send: the purposes a person withdrew in Salesforce, per regulation. */
export interface Refusal {
  /** The record's Didomi_User_Id__c: this service's key for the person (`didomi/user-key.ts`). */
  userKey: string;
  regulation: string;
  purposes: string[];
}

/** What one record says that Didomi does not know yet (pure, for tests). */
export function refusalsOf(target: Target, row: Record<string, unknown>): Refusal[] {
  const userId = row[RECORD_FIELDS.userId];
  if (typeof userId !== 'string' || !userId) return [];
  let snap: { purposes?: Record<string, Record<string, boolean>> };
  try {
    snap = JSON.parse(String(row[RECORD_FIELDS.snapshot] ?? ''));
  } catch {
    return []; // never synced by this service: nothing to compare with
  }
  const byRegulation = new Map<string, Set<string>>();
  for (const m of target.mappings) {
    if (m.kind !== 'Purpose' || !m.purposeId || m.fieldType !== 'boolean') continue;
    const v = row[m.field];
    if (typeof v !== 'boolean') continue;
    const enabled = m.invert ? !v : v;
    const regulation = m.regulation === 'any' ? DEFAULT_REGULATION : m.regulation;
    // A refusal of a consent Didomi holds as given. A field Didomi never set for this person (no
    // choice in the snapshot) only shows the field's default, not somebody's decision.
    if (enabled || snap.purposes?.[regulation]?.[m.purposeId] !== true) continue;
    (byRegulation.get(regulation) ?? byRegulation.set(regulation, new Set()).get(regulation)!).add(m.purposeId);
  }
  return [...byRegulation].map(([regulation, ids]) => ({ userKey: userId, regulation, purposes: [...ids].sort() }));
}

/** Posts one refusal to Didomi's Consents API; 'retry' when Didomi is unavailable (the caller keeps its position). */
export async function sendRefusal(
  d: Pick<ReverseSyncDeps, 'didomi' | 'onSent' | 'logger' | 'logLevel'>,
  r: Refusal,
  object: string,
  recordId: string,
): Promise<'sent' | 'refused' | 'retry'> {
  try {
    await d.didomi.postConsentEvent({ ...r, purposes: r.purposes.map((pid) => ({ id: pid, enabled: false })) });
    d.onSent('sent');
    d.logger.info({ user: hashUserKey(r.userKey, d.logLevel), purposes: r.purposes, object }, 'refusal sent to Didomi');
    return 'sent';
  } catch (e) {
    if (e instanceof DidomiApiError && e.transient) {
      d.onSent('retry');
      d.logger.warn({ err: e.message }, 'Didomi unavailable');
      return 'retry';
    }
    d.onSent('refused');
    d.logger.error({ err: (e as Error).message, object, recordId }, 'Didomi refused a consent event');
    return 'refused';
  }
}

export class ReverseSync {
  private readonly d: ReverseSyncDeps;
  private readonly now: () => number;
  /** Per object: the SystemModstamp up to which changes were handled, and the ids handled at exactly that instant. */
  private readonly marks = new Map<string, { at: number; ids: Set<string> }>();
  private readonly since: number;

  constructor(d: ReverseSyncDeps, lookbackMs: number) {
    this.d = d;
    this.now = d.now ?? Date.now;
    // Changes made while the service was restarting are picked up; older history is not replayed.
    this.since = this.now() - lookbackMs;
  }

  /** One poll of every target (or only those on `objects`: the Pub/Sub subscriber's catch-up). */
  async poll(objects?: string[]): Promise<void> {
    const config = this.d.config();
    if (!config) return;
    const me = await this.d.client.userId();
    for (const target of config.targets) {
      if (objects && !objects.includes(target.object)) continue;
      const fields = [...new Set(target.mappings.filter((m) => m.kind === 'Purpose' && m.fieldType === 'boolean').map((m) => m.field))];
      if (!fields.length) continue;
      const p = this.d.persist;
      const stream = `poll:${target.object}`;
      if (p) {
        if (!(await p.store.holdReverseLease(stream, p.holder, p.leaseMs, this.now()))) continue; // another replica polls it
        // A restart resumes from the saved watermark, however long the service was down.
        const saved = this.marks.has(target.object) ? null : await p.store.reversePosition(stream);
        if (saved?.commitAt) this.marks.set(target.object, { at: saved.commitAt, ids: new Set() });
      }
      await this.pollTarget(target, fields, me);
      const mark = this.marks.get(target.object);
      if (p && mark) await p.store.saveReversePosition(stream, p.holder, { replayId: null, commitAt: mark.at });
    }
  }

  /** Gives the poll leases back (graceful stop), so a restarted or other replica polls at once. */
  async release(): Promise<void> {
    const p = this.d.persist;
    if (p) for (const object of this.marks.keys()) await p.store.releaseReverseLease(`poll:${object}`, p.holder).catch(() => undefined);
  }

  private async pollTarget(target: Target, fields: string[], me: string | null) {
    const mark = this.marks.get(target.object) ?? { at: this.since, ids: new Set<string>() };
    for (let page = 0; page < MAX_PAGES; page++) {
      // SOQL date-time literals have whole seconds: ask from the mark's second, skip what was handled.
      const from = new Date(Math.floor(mark.at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
      const soql =
        `SELECT Id, ${RECORD_FIELDS.userId}, ${RECORD_FIELDS.snapshot}, SystemModstamp, ${fields.map(soqlIdent).join(', ')} FROM ${soqlIdent(target.object)}` +
        ` WHERE SystemModstamp >= ${from} AND ${RECORD_FIELDS.userId} != null${me ? ` AND LastModifiedById != ${soqlString(me)}` : ''}` +
        ` ORDER BY SystemModstamp, Id LIMIT ${PAGE}`;
      const rows = await this.d.client.query<Record<string, unknown>>(soql);
      let fresh = 0;
      for (const row of rows) {
        const at = Date.parse(String(row.SystemModstamp).replace(/\+0000$/, 'Z'));
        const id = String(row.Id);
        if (at < mark.at || (at === mark.at && mark.ids.has(id))) continue;
        fresh++;
        for (const r of refusalsOf(target, row)) {
          if ((await sendRefusal(this.d, r, target.object, id)) === 'retry') {
            this.d.logger.warn('Didomi unavailable; the refusal is sent at the next poll');
            this.marks.set(target.object, mark);
            return; // the mark stays before this record
          }
        }
        if (at > mark.at) {
          mark.at = at;
          mark.ids = new Set();
        }
        mark.ids.add(id);
      }
      this.marks.set(target.object, mark);
      if (rows.length < PAGE || !fresh) return;
    }
  }
}
