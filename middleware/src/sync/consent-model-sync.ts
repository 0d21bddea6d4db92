// Writes a batch's consents into Salesforce's consent data model (planning: consent-model.ts), after
// the record fields are written and through the engine's same write path (sObject Collections inside
// /composite, only changed records). Per batch: one call for the Individuals still missing, one for
// the consents and IndividualId links, plus, once per purpose name and process, a query (and an upsert by Didomi_Purpose_Key__c)
// for the DataUsePurpose records.
import { CONSENT_MODEL } from '../salesforce/api-names.ts';
import type { SaveResult } from '../salesforce/client.ts';
import { inList } from '../salesforce/soql.ts';
import type { AfterWriteStep } from './after-write.ts';
import type { SalesforceApi } from './clients.ts';
import { adoptCandidates, individualId, planConsents, planIndividual, planLinks, type CurrentLinks, type Owners } from './consent-model.ts';
import type { ConsentModelMapping, SyncConfig, Target } from './config-types.ts';
import type { Matches } from './plan.ts';
import type { RecordOp, Work } from './work.ts';

export class ConsentModelSync {
  /** DataUsePurpose ids by lower-case name: they are few and change rarely. */
  private purposes = new Map<string, string>();

  private readonly client: SalesforceApi;

  constructor(client: SalesforceApi) {
    this.client = client;
  }

  /** The engine's post-write step (after-write.ts). */
  readonly step: AfterWriteStep = ({ config, works, write, matches }) => this.sync(config, works, write, matches);

  /** Returns the number of record operations sent. */
  async sync(config: SyncConfig, works: Work[], write: (ops: RecordOp[]) => Promise<void>, matches: Matches = new Map()): Promise<number> {
    const mappings = config.consentModel ?? [];
    const target = config.targets[0];
    if (!mappings.length || !target) return 0;
    const live = works.filter((w) => !w.transient);
    const current = currentLinks(matches);
    const I = CONSENT_MODEL.individual;
    const owners = await this.ownersOf(live, current);
    const individuals: RecordOp[] = [];
    for (const w of live) {
      if (w.transient) continue;
      const plan = planIndividual(w.user.userKey, w.state, mappings, w.written, current, owners);
      if (plan?.id) individuals.push({ work: w, target, kind: 'update', id: plan.id, fields: plan.fields, sobject: I.object });
      else if (plan) individuals.push({ work: w, target, kind: 'upsert', fields: plan.fields, sobject: I.object, externalId: I.fields.userId });
    }
    await this.ensurePurposes(mappings, live);
    if (individuals.length) await write(individuals);
    const ops: RecordOp[] = [];
    const consents: RecordOp[] = [];
    const C = CONSENT_MODEL.consent;
    for (const w of live) {
      if (w.transient) continue;
      const ind = individualId(w.user.userKey, w.written);
      if (!ind && !Object.keys(w.written).length) continue;
      if (ind) {
        for (const l of planLinks(w.state, w.written, ind, current)) {
          const t = config.targets.find((x) => x.object === l.object);
          if (t) ops.push({ work: w, target: t, kind: 'update', id: l.id, fields: l.fields });
        }
      }
      for (const c of planConsents(w.user.userKey, w.state, mappings, w.written, ind ?? '', this.purposes)) {
        if (!ind && !c.id) continue;
        consents.push(
          c.id
            ? { work: w, target, kind: 'update', id: c.id, fields: c.fields, sobject: C.object }
            : { work: w, target, kind: 'upsert', fields: c.fields, sobject: C.object, externalId: C.fields.key },
        );
      }
    }
    // Grouped by type (Leads, Contacts, then consents): a collection holds few type runs, and Salesforce
    // refuses more than 10 per request (REST API Developer Guide, sObject Collections).
    ops.sort((a, b) => a.target.object.localeCompare(b.target.object));
    ops.push(...consents);
    if (ops.length) await write(ops);
    return individuals.length + ops.length;
  }

  /**
   * Who owns the org's Individuals that matched records point at (one query, only in a batch where a
   * person may adopt one), so an Individual never passes from one Didomi user to another.
   */
  private async ownersOf(works: Work[], current: CurrentLinks): Promise<Owners> {
    const owners: Owners = new Map();
    const asking = works.filter((w) => !individualId(w.user.userKey, w.written) && adoptCandidates(w.written, current).length);
    const ids = [...new Set(asking.flatMap((w) => adoptCandidates(w.written, current)))];
    if (!ids.length) return owners;
    const I = CONSENT_MODEL.individual;
    try {
      const soql = `SELECT Id, ${I.fields.userId} FROM ${I.object} WHERE Id IN ${inList(ids)}`;
      for (const r of await this.client.query<Record<string, string | null>>(soql)) owners.set(String(r.Id), r[I.fields.userId] ?? null);
    } catch (e) {
      for (const w of asking) w.transient ??= `Individual owner lookup failed: ${(e as Error).message}`;
    }
    return owners;
  }

  /** Finds the DataUsePurpose records by name, creating the missing ones; a person whose purpose is missing is retried. */
  private async ensurePurposes(mappings: ConsentModelMapping[], works: Work[]) {
    const names = [...new Set(mappings.map((m) => m.dataUsePurpose))].filter((n) => !this.purposes.has(n.toLowerCase()));
    if (!names.length) return;
    const P = CONSENT_MODEL.purpose.object;
    const missing = (why: string) => {
      for (const w of works) w.transient ??= why;
    };
    try {
      const soql = `SELECT Id, Name FROM ${P} WHERE Name IN ${inList(names)} ORDER BY CreatedDate, Id`;
      for (const r of await this.client.query<{ Id: string; Name: string }>(soql))
        if (!this.purposes.has(String(r.Name).toLowerCase())) this.purposes.set(String(r.Name).toLowerCase(), r.Id);
      const create = names.filter((n) => !this.purposes.has(n.toLowerCase()));
      if (!create.length) return;
      // Upserted by a unique, case-insensitive key (DataUsePurpose supports upsert(), Object Reference), so
      // replicas creating the same purpose at once make one record; a DUPLICATE_VALUE loser retries and finds it.
      const K = CONSENT_MODEL.purpose.fields.key;
      const res = await this.client.request<SaveResult[]>(
        'PATCH',
        `${this.client.base}/composite/sobjects/${P}/${K}`,
        { allOrNone: false, records: create.map((Name) => ({ attributes: { type: P }, Name, [K]: Name.toLowerCase() })) },
        'collections',
      );
      const failed: string[] = [];
      res.body.forEach((r, i) => {
        if (r.success && r.id) this.purposes.set(create[i].toLowerCase(), r.id);
        else failed.push(`${create[i]}: ${r.errors?.[0]?.statusCode ?? 'UNKNOWN'} ${r.errors?.[0]?.message ?? ''}`);
      });
      if (failed.length) missing(`DataUsePurpose not created (${failed.join('; ')})`);
    } catch (e) {
      missing(`DataUsePurpose lookup failed: ${(e as Error).message}`);
    }
  }
}

/** The target's lookup to its Individual when the org has it visible (describe), else null. */
export function individualLink(t: Target): string | null {
  const field = CONSENT_MODEL.recordLink[t.object];
  return field && t.fields.has(field.toLowerCase()) ? field : null;
}

/** What the match query read of each record's IndividualId or PersonIndividualId (match.ts selects it through individualLink). */
function currentLinks(matches: Matches): CurrentLinks {
  const out: CurrentLinks = new Map();
  for (const [object, byKey] of matches) {
    const field = CONSENT_MODEL.recordLink[object];
    if (!field) continue;
    for (const records of byKey.values()) for (const r of records) if (field in r) out.set(r.Id, typeof r[field] === 'string' ? (r[field] as string) : null);
  }
  return out;
}
