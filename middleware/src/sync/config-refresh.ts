// Re-reads the sync targets, mappings and the describes of their objects and of the consent data model, the dead letters the admin asked
// to retry and the pending bulk requests (bulk-requests.ts), in one composite call (every CONFIG_REFRESH_MS).
import { SYNC_ERROR, TARGET_OBJECTS } from '../salesforce/api-names.ts';
import type { CompositeSubrequest, CompositeSubresponse, QueryResult, SObjectRow } from '../salesforce/client.ts';
import { soqlString } from '../salesforce/soql.ts';
import type { SalesforceApi } from './clients.ts';
import { BULK_REQUESTS_SOQL } from './bulk-requests.ts';
import { buildConfig, MAPPINGS_SOQL, TARGETS_SOQL, type Describe } from './config-loader.ts';
import type { SyncConfig } from './config-types.ts';
import { CONSENT_MODEL_OBJECTS } from './consent-model-check.ts';

/** The targets' objects and the consent data model's (consent-model-check.ts), described in the same call. */
const DESCRIBED = [...TARGET_OBJECTS, ...CONSENT_MODEL_OBJECTS];

export interface OrgReading {
  /** null when the targets or mappings could not be read (the last configuration stays). */
  config: SyncConfig | null;
  /** Retry requests: Didomi_Sync_Error__c id and the person's key; null when they could not be read. */
  retryRequests: { id: string; userKey: string }[] | null;
  /** Pending Didomi_Sync_Bulk_Request__c rows (validated by bulk-requests.ts); empty when they could not be read. */
  bulkRequests: SObjectRow[];
  /** Bodies of failed reads, for the log. */
  failures: Record<string, unknown>;
}

export async function readOrg(sf: SalesforceApi): Promise<OrgReading> {
  const base = sf.base;
  const E = SYNC_ERROR.fields;
  const q = (referenceId: string, soql: string): CompositeSubrequest => ({ method: 'GET', url: `${base}/query?q=${encodeURIComponent(soql)}`, referenceId });
  const subs: CompositeSubrequest[] = [
    q('targets', TARGETS_SOQL),
    q('mappings', MAPPINGS_SOQL),
    q('retry', `SELECT Id, ${E.organizationUserId}, ${E.attempts} FROM ${SYNC_ERROR.object} WHERE ${E.status} = ${soqlString('Retry Requested')} LIMIT 200`),
    q('bulk', BULK_REQUESTS_SOQL),
    ...DESCRIBED.map((o) => ({ method: 'GET' as const, url: `${base}/sobjects/${o}/describe`, referenceId: `describe${o}` })),
  ];
  const res = await sf.composite(subs);
  const by = new Map(res.map((r) => [r.referenceId, r]));
  const ok = (r?: CompositeSubresponse): r is CompositeSubresponse => !!r && r.httpStatusCode < 400;
  const rows = (r: CompositeSubresponse) => (r.body as QueryResult<SObjectRow>).records;
  const targets = by.get('targets');
  const mappings = by.get('mappings');
  let config: SyncConfig | null = null;
  const failures: Record<string, unknown> = {};
  if (ok(targets) && ok(mappings)) {
    const describes = new Map<string, Describe>();
    for (const o of DESCRIBED) {
      const d = by.get(`describe${o}`);
      if (ok(d)) describes.set(o, d.body as Describe);
    }
    config = buildConfig(rows(targets), rows(mappings), describes);
  } else {
    failures.targets = targets?.body;
    failures.mappings = mappings?.body;
  }
  const retry = by.get('retry');
  const retryRequests = ok(retry)
    ? rows(retry).flatMap((r) => {
        const k = r[E.organizationUserId];
        return typeof k === 'string' && k ? [{ id: r.Id, userKey: k }] : [];
      })
    : null;
  const bulk = by.get('bulk');
  return { config, retryRequests, bulkRequests: ok(bulk) ? rows(bulk) : [], failures };
}
