// The heartbeat: this instance's Didomi_Sync_Status__c record (upserted by Instance_Id__c), which
// the admin tab reads.
import { SYNC_STATUS } from '../salesforce/api-names.ts';
import type { Store } from '../store/types.ts';
import type { SyncClients } from './clients.ts';
import type { SyncHealth } from './health.ts';

const VERSION = '0.1.0';

export interface HeartbeatDeps {
  clients: SyncClients;
  store: Pick<Store, 'stats'>;
  health: SyncHealth;
  instanceId: string;
  now: () => number;
}

export async function writeHeartbeat(d: HeartbeatDeps): Promise<void> {
  const stats = await d.store.stats();
  d.health.rollDay();
  const S = SYNC_STATUS.fields;
  const budget = d.clients.budget.snapshot();
  const { today, lastSuccess, lastError } = d.health;
  const status = {
    Name: d.instanceId.slice(0, 80),
    [S.lastHeartbeat]: new Date(d.now()).toISOString(),
    [S.lastSuccess]: lastSuccess,
    [S.statsDate]: today.date,
    [S.eventsAcceptedToday]: today.accepted,
    [S.eventsSyncedToday]: today.synced,
    [S.eventsFailedToday]: today.failed,
    [S.queueDepth]: stats.pendingEvents,
    [S.oldestPendingSeconds]: stats.oldestPendingAt ? Math.round((d.now() - Date.parse(stats.oldestPendingAt)) / 1000) : 0,
    [S.apiUsed]: budget.used,
    [S.apiMax]: budget.max,
    [S.lastError]: lastError?.message.slice(0, 32000) ?? null,
    [S.lastErrorAt]: lastError?.at ?? null,
    [S.version]: VERSION,
  };
  const sf = d.clients.salesforce;
  await sf.request('PATCH', `${sf.base}/sobjects/${SYNC_STATUS.object}/${S.instanceId}/${encodeURIComponent(d.instanceId)}`, status, 'sobjects');
}
