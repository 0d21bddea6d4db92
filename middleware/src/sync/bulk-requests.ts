// "Retry / dismiss every dead letter with this code" from the admin tab. LDS has no bulk update,
// so the tab creates one Didomi_Sync_Bulk_Request__c record and the middleware carries it out
// server-side: one SOQL for the matching dead letters' ids, then sObject Collections updates (200
// records each, 5 per /composite call). 10,000 dead letters cost the browser one create and the org
// about 11 API calls, instead of 10,000 updates from the browser.
// A run changes at most PER_RUN rows so the heartbeat stays on time; the request stays Pending with
// its progress in Records_Affected__c and the next housekeeping run goes on. Re-running is safe: a
// changed row no longer matches the From_Status__c filter.
import type { Logger } from 'pino';
import { z } from 'zod';
import { BULK_ACTIONS, BULK_REQUEST, ERROR_STATUSES, SYNC_ERROR, TARGET_OBJECTS } from '../salesforce/api-names.ts';
import type { CompositeSubrequest, SaveResult } from '../salesforce/client.ts';
import { soqlString } from '../salesforce/soql.ts';
import type { SalesforceApi } from './clients.ts';

const R = BULK_REQUEST.fields;
const E = SYNC_ERROR.fields;
export const PER_RUN = 2000;
const COLLECTION = 200;
const COLLECTIONS_PER_CALL = 5;

/** Read with the configuration refresh's composite (config-refresh.ts): no extra API call when nothing is pending. */
export const BULK_REQUESTS_SOQL =
  `SELECT Id, ${R.action}, ${R.code}, ${R.fromStatus}, ${R.targetObject}, ${R.affected} FROM ${BULK_REQUEST.object} ` +
  `WHERE ${R.status} = 'Pending' ORDER BY CreatedDate LIMIT 10`;

// Validated like any external input: a request record is typed by an admin (or a script) in the org.
const requestSchema = z.object({
  Id: z.string().min(15),
  [R.action]: z.enum(Object.keys(BULK_ACTIONS) as [keyof typeof BULK_ACTIONS]),
  [R.code]: z.string().trim().min(1),
  [R.fromStatus]: z.enum(ERROR_STATUSES.filter((s) => s !== 'Resolved') as [string, ...string[]]),
  [R.targetObject]: z.enum(TARGET_OBJECTS).nullish(),
  [R.affected]: z.number().nullish(),
});

export interface BulkRequestDeps {
  client: SalesforceApi;
  logger: Logger;
  now: () => number;
  perRun?: number;
}

/** Carries out the pending requests read by the configuration refresh; returns how many dead letters changed. */
export async function carryOutBulkRequests(records: Record<string, unknown>[], d: BulkRequestDeps): Promise<number> {
  let budget = d.perRun ?? PER_RUN;
  let changed = 0;
  for (const raw of records) {
    if (budget <= 0) break;
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      await finish(d, String(raw.Id), 'Failed', Number(raw[R.affected] ?? 0), `Invalid request: ${why}`);
      continue;
    }
    const q = parsed.data;
    const to = BULK_ACTIONS[q[R.action]];
    try {
      const done = await changeStatus(d, q[R.code], q[R.fromStatus], q[R.targetObject] ?? null, to, budget);
      budget -= done.matched;
      changed += done.changed;
      const affected = Number(q[R.affected] ?? 0) + done.changed;
      if (done.matched > 0 && done.changed === 0) await finish(d, q.Id, 'Failed', affected, done.firstError ?? 'No dead letter could be changed');
      else if (done.matched < done.limit) await finish(d, q.Id, 'Done', affected, null);
      else await progress(d, q.Id, affected);
      d.logger.info({ request: q.Id, action: q[R.action], code: q[R.code], changed: done.changed }, 'bulk request on dead letters');
    } catch (e) {
      d.logger.warn({ request: q.Id, err: (e as Error).message }, 'bulk request failed; will try again');
    }
  }
  return changed;
}

async function changeStatus(d: BulkRequestDeps, code: string, from: string, object: string | null, to: string, limit: number) {
  const where = [`${E.code} = ${soqlString(code)}`, `${E.status} = ${soqlString(from)}`];
  if (object) where.push(`${E.targetObject} = ${soqlString(object)}`);
  const ids = (await d.client.query<{ Id: string }>(`SELECT Id FROM ${SYNC_ERROR.object} WHERE ${where.join(' AND ')} LIMIT ${limit}`)).map((r) => r.Id);
  let changed = 0;
  let firstError: string | undefined;
  const subs: CompositeSubrequest[] = [];
  for (let i = 0; i < ids.length; i += COLLECTION)
    subs.push({
      method: 'PATCH',
      url: `${d.client.base}/composite/sobjects`,
      referenceId: `b${i / COLLECTION}`,
      body: { allOrNone: false, records: ids.slice(i, i + COLLECTION).map((id) => ({ attributes: { type: SYNC_ERROR.object }, id, [E.status]: to })) },
    });
  for (let i = 0; i < subs.length; i += COLLECTIONS_PER_CALL) {
    for (const r of await d.client.composite(subs.slice(i, i + COLLECTIONS_PER_CALL))) {
      if (r.httpStatusCode >= 400 || !Array.isArray(r.body)) {
        firstError ??= JSON.stringify(r.body).slice(0, 200);
        continue;
      }
      for (const one of r.body as SaveResult[]) {
        if (one.success) changed++;
        else firstError ??= one.errors?.[0]?.message;
      }
    }
  }
  return { matched: ids.length, changed, limit, firstError };
}

const patchRequest = (d: BulkRequestDeps, id: string, fields: Record<string, unknown>) =>
  d.client.request('PATCH', `${d.client.base}/sobjects/${BULK_REQUEST.object}/${id}`, fields, 'sobject');

const progress = (d: BulkRequestDeps, id: string, affected: number) => patchRequest(d, id, { [R.affected]: affected });

function finish(d: BulkRequestDeps, id: string, status: 'Done' | 'Failed', affected: number, message: string | null) {
  return patchRequest(d, id, {
    [R.status]: status,
    [R.affected]: affected,
    [R.processedAt]: new Date(d.now()).toISOString(),
    [R.message]: message?.slice(0, 255) ?? null,
  });
}
