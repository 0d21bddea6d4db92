import { graphql } from 'lightning/graphql';
import DidomiSyncStatus from 'c/didomiSyncStatus';
import { $, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';

const status = (heartbeatAgoMs: number, extra: Record<string, unknown> = {}) => ({
  Id: 'a03000000000001AAA',
  Name: 'sync-1',
  Instance_Id__c: 'i-1',
  Version__c: '0.1.0',
  Last_Heartbeat__c: new Date(Date.now() - heartbeatAgoMs).toISOString(),
  Events_Accepted_Today__c: 1250,
  Events_Synced_Today__c: 1240,
  Events_Failed_Today__c: 3,
  Queue_Depth__c: 7,
  Api_Usage_Used__c: 2500,
  Api_Usage_Max__c: 100000,
  Last_Error__c: 'INVALID_EMAIL_ADDRESS: Email: invalid email address',
  Last_Error_At__c: '2026-11-24T10:00:00.000Z',
  ...extra,
});

describe('c-didomi-sync-status', () => {
  afterEach(unmountAll);

  it('shows a spinner until the status arrives', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    await flush();
    expect($(el, 'lightning-spinner')).not.toBeNull();
    await expect(el).toBeAccessible();
  });

  it('shows a live middleware: green badge, heartbeat age, counters, API usage and the last error', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    (graphql as any).emit(gqlData('Didomi_Sync_Status__c', connection([status(30_000)])));
    await flush();
    expect($(el, '[data-id="badge"]').textContent).toBe('c.Didomi_Status_Alive');
    expect($(el, '[data-id="badge"]').className).toContain('slds-theme_success');
    expect($(el, '[data-id="stale-help"]')).toBeNull();
    expect($(el, '[data-counter="synced"] lightning-formatted-number').value).toBe(1240);
    expect($(el, '[data-counter="failed"] lightning-formatted-number').value).toBe(3);
    expect($(el, '[data-counter="queue"] lightning-formatted-number').value).toBe(7);
    expect($(el, 'lightning-progress-bar').value).toBe(3); // 2,500 of 100,000 rounds to 3 %
    expect($(el, '[data-id="last-error"]').textContent).toContain('INVALID_EMAIL_ADDRESS');
    expect($(el, 'lightning-spinner')).toBeNull();
    await expect(el).toBeAccessible();
  });

  it('turns red and says why when the heartbeat is stale', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    (graphql as any).emit(gqlData('Didomi_Sync_Status__c', connection([status(10 * 60_000, { Last_Error__c: null })])));
    await flush();
    expect($(el, '[data-id="badge"]').textContent).toBe('c.Didomi_Status_Stale');
    expect($(el, '[data-id="badge"]').className).toContain('slds-theme_error');
    expect($(el, '[data-id="stale-help"]').getAttribute('role')).toBe('alert');
    expect($(el, '[data-id="last-error"]').textContent).toBe('c.Didomi_Status_No_Error');
    await expect(el).toBeAccessible();
  });

  it('explains what to do when the middleware never wrote a heartbeat', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    (graphql as any).emit(gqlData('Didomi_Sync_Status__c', connection([])));
    await flush();
    expect($(el, '[data-id="empty"]').textContent).toBe('c.Didomi_Status_Empty');
    expect($(el, '[data-id="health"]')).toBeNull();
    await expect(el).toBeAccessible();
  });

  it('shows GraphQL errors in plain words', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    (graphql as any).emitErrors([{ message: 'Insufficient privileges on Didomi_Sync_Status__c' }]);
    await flush();
    expect($(el, '[data-id="error"]').textContent).toBe('Insufficient privileges on Didomi_Sync_Status__c');
    await expect(el).toBeAccessible();
  });

  it('refreshes the query when asked', async () => {
    const el = mount('c-didomi-sync-status', DidomiSyncStatus);
    const refresh = jest.fn().mockResolvedValue(undefined);
    (graphql as any).emit(gqlData('Didomi_Sync_Status__c', connection([status(1000)])), undefined, refresh);
    await flush();
    $(el, 'lightning-button-icon').click();
    await flush();
    // the test adapter hands the same refresh to both wires: the status and the open dead-letter count
    expect(refresh).toHaveBeenCalledTimes(2);
  });
});
