// Status at a glance: open dead letters with a way to the queue, the oldest waiting event, and,
// when the heartbeat is stale, the time its counters date from.
import { graphql } from 'lightning/graphql';
import DidomiSyncStatus from 'c/didomiSyncStatus';
import DidomiSyncAdmin from 'c/didomiSyncAdmin';
import { $, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';

const status = (heartbeatAgoMs: number, extra: Record<string, unknown> = {}) => ({
  Id: 'a03000000000001AAA',
  Name: 'sync-1',
  Last_Heartbeat__c: new Date(Date.now() - heartbeatAgoMs).toISOString(),
  Events_Accepted_Today__c: 18204,
  Queue_Depth__c: 7,
  Oldest_Pending_Seconds__c: 130,
  ...extra,
});
const openCount = (n: number) =>
  (graphql as any).emit({ uiapi: { aggregate: { Didomi_Sync_Error__c: { edges: [{ node: { aggregate: { Id: { count: { value: n } } } } }] } } } });

describe('c-didomi-sync-status at a glance', () => {
  afterEach(unmountAll);

  it('shows the open dead letters and the oldest waiting event; no "as of" while the heartbeat is fresh', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    (graphql as any).emit(gqlData('Didomi_Sync_Status__c', connection([status(20_000)])));
    openCount(1234);
    await flush();
    expect($(el, '[data-id="dead-letter-count"]').textContent).toBe('c.Didomi_Status_Open_Dead_Letters');
    expect($(el, '[data-id="dead-letter-count"]').className).toBe('slds-text-color_error');
    expect($(el, '[data-id="oldest-pending"] strong').textContent).toBe('2 min');
    expect($(el, '[data-id="counts-as-of"]')).toBeNull();
    await expect(el).toBeAccessible();
  });

  it('dates a stale heartbeat’s counters', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    const row = status(3 * 86_400_000, { Oldest_Pending_Seconds__c: 0 });
    (graphql as any).emit(gqlData('Didomi_Sync_Status__c', connection([row])));
    openCount(0);
    await flush();
    expect($(el, '[data-id="counts-as-of"] lightning-formatted-date-time').value).toBe(row.Last_Heartbeat__c);
    expect($(el, '[data-id="oldest-pending"] strong').textContent).toBe('c.Didomi_Status_Nothing_Pending');
    expect($(el, '[data-id="dead-letter-count"]').className).toBe('slds-text-color_success');
  });

  it('"open the error queue" switches the admin tab to the queue', async () => {
    const el = mount('c-didomi-sync-admin', DidomiSyncAdmin);
    await flush();
    const tabset = $(el, 'lightning-tabset');
    expect(tabset.activeTabValue).toBe('status');
    $(el, 'c-didomi-sync-status').dispatchEvent(new CustomEvent('openqueue', { bubbles: true, composed: true }));
    await flush();
    expect(tabset.activeTabValue).toBe('errors');
  });
});
