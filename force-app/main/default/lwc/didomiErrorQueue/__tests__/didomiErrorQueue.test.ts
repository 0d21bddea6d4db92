import { graphql } from 'lightning/graphql';
import { updateRecord } from 'lightning/uiRecordApi';
import { getNavigateCalledWith } from 'lightning/navigation';
import DidomiErrorQueue from 'c/didomiErrorQueue';
import { $, change, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';

const deadLetter = (n: number, extra: Record<string, unknown> = {}) => ({
  Id: `a02000000000${String(n).padStart(3, '0')}AAA`,
  Name: `ERR-${String(n).padStart(6, '0')}`,
  Status__c: 'Open',
  Error_Code__c: 'INVALID_EMAIL_ADDRESS',
  Message__c: 'Email: invalid email address: not-an-email',
  Organization_User_Id__c: `user${n}@example.com`,
  Didomi_User_Id__c: `didomi-${n}`,
  Target_Object__c: 'Lead',
  Record_Id__c: null,
  Attempts__c: 1,
  Last_Failed_At__c: '2026-11-24T10:00:00.000Z',
  ...extra,
});

function emitErrors(rows: Record<string, unknown>[], pageInfo = { hasNextPage: false, endCursor: null as string | null }, refresh?: () => Promise<void>) {
  (graphql as any).emit(gqlData('Didomi_Sync_Error__c', connection(rows, { totalCount: rows.length, pageInfo })), undefined, refresh);
}

describe('c-didomi-error-queue', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });

  it('asks for open dead letters, newest first, one page at a time', async () => {
    mount('c-didomi-error-queue', DidomiErrorQueue);
    await flush();
    expect((graphql as any).getLastConfig().variables).toEqual({ where: { Status__c: { eq: 'Open' } }, first: 20, after: null });
  });

  it('shows an empty state', async () => {
    const el = mount('c-didomi-error-queue', DidomiErrorQueue);
    emitErrors([]);
    await flush();
    expect($(el, '[data-id="empty"]').textContent).toBe('c.Didomi_Errors_Empty');
    expect($(el, '[data-id="retry"]').disabled).toBe(true);
    await expect(el).toBeAccessible();
  });

  it('lists dead letters in a datatable', async () => {
    const el = mount('c-didomi-error-queue', DidomiErrorQueue);
    emitErrors([deadLetter(1), deadLetter(2)]);
    await flush();
    const table = $(el, 'lightning-datatable');
    expect(table.data.map((r: any) => r.Name)).toEqual(['ERR-000001', 'ERR-000002']);
    expect(table.data[0].Error_Code__c).toBe('INVALID_EMAIL_ADDRESS');
    expect(table.keyField).toBe('Id');
    await expect(el).toBeAccessible();
  });

  it('requests a retry of the selected dead letters, one updateRecord each', async () => {
    const el = mount('c-didomi-error-queue', DidomiErrorQueue);
    const refresh = jest.fn().mockResolvedValue(undefined);
    const rows = [deadLetter(1), deadLetter(2), deadLetter(3)];
    emitErrors(rows, undefined, refresh);
    await flush();
    const toasts: any[] = [];
    el.addEventListener('lightning__showtoast', (e: any) => toasts.push(e.detail));
    $(el, 'lightning-datatable').dispatchEvent(new CustomEvent('rowselection', { detail: { selectedRows: [rows[0], rows[2]] } }));
    await flush();
    expect($(el, '[data-id="retry"]').disabled).toBe(false);
    $(el, '[data-id="retry"]').click();
    await flush();
    expect((updateRecord as jest.Mock).mock.calls.map((c) => c[0])).toEqual([
      { fields: { Id: rows[0].Id, Status__c: 'Retry Requested' } },
      { fields: { Id: rows[2].Id, Status__c: 'Retry Requested' } },
    ]);
    expect(refresh).toHaveBeenCalled();
    expect(toasts).toEqual([{ title: 'c.Didomi_Errors_Updated', message: 'Retry Requested', variant: 'success' }]);
  });

  it('dismisses, and reports the records the server refused', async () => {
    const el = mount('c-didomi-error-queue', DidomiErrorQueue);
    const rows = [deadLetter(1), deadLetter(2)];
    emitErrors(rows);
    await flush();
    (updateRecord as jest.Mock).mockResolvedValueOnce({}).mockRejectedValueOnce({ body: { message: 'entity is deleted' } });
    $(el, 'lightning-datatable').dispatchEvent(new CustomEvent('rowselection', { detail: { selectedRows: rows } }));
    await flush();
    $(el, '[data-id="dismiss"]').click();
    await flush();
    expect((updateRecord as jest.Mock).mock.calls.map((c) => c[0].fields.Status__c)).toEqual(['Dismissed', 'Dismissed']);
    expect($(el, '[data-id="error"]').textContent).toBe('entity is deleted');
  });

  it('filters by status and pages with the cursor', async () => {
    const el = mount('c-didomi-error-queue', DidomiErrorQueue);
    emitErrors([deadLetter(1)], { hasNextPage: true, endCursor: 'MjA=' });
    await flush();
    expect($(el, '[data-id="previous"]').disabled).toBe(true);
    $(el, '[data-id="next"]').click();
    await flush();
    expect((graphql as any).getLastConfig().variables.after).toBe('MjA=');
    emitErrors([deadLetter(21)]);
    await flush();
    expect($(el, '[data-id="next"]').disabled).toBe(true);
    $(el, '[data-id="previous"]').click();
    await flush();
    expect((graphql as any).getLastConfig().variables.after).toBeNull();
    change($(el, '[data-id="status-filter"]'), 'All');
    await flush();
    expect((graphql as any).getLastConfig().variables).toEqual({ where: {}, first: 20, after: null });
    change($(el, '[data-id="status-filter"]'), 'Dismissed');
    await flush();
    expect((graphql as any).getLastConfig().variables.where).toEqual({ Status__c: { eq: 'Dismissed' } });
  });

  it('opens a dead letter record page', async () => {
    const el = mount('c-didomi-error-queue', DidomiErrorQueue);
    const row = deadLetter(7);
    emitErrors([row]);
    await flush();
    $(el, 'lightning-datatable').dispatchEvent(new CustomEvent('rowaction', { detail: { action: { name: 'open' }, row } }));
    expect(getNavigateCalledWith().pageReference).toEqual({
      type: 'standard__recordPage',
      attributes: { recordId: row.Id, objectApiName: 'Didomi_Sync_Error__c', actionName: 'view' },
    });
  });

  it('shows GraphQL errors in plain words', async () => {
    const el = mount('c-didomi-error-queue', DidomiErrorQueue);
    (graphql as any).emitErrors([{ message: "Validation error of type FieldUndefined: Field 'Didomi_Sync_Error__c' is undefined" }]);
    await flush();
    expect($(el, '[data-id="error"]').textContent).toContain('FieldUndefined');
    await expect(el).toBeAccessible();
  });
});
