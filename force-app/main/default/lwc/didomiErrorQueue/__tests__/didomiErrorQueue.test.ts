import { graphql } from 'lightning/graphql';
import { createRecord, updateRecord } from 'lightning/uiRecordApi';
import { getNavigateCalledWith } from 'lightning/navigation';
import DidomiErrorQueue, { AUTO_REFRESH_MS, SEARCH_DEBOUNCE_MS } from 'c/didomiErrorQueue';
import { $, $$, change, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { likeContains, listWhere, noFilters } from '../errorQueueFilters';

const deadLetter = (n: number, extra: Record<string, unknown> = {}) => ({
  Id: `a02000000000${String(n).padStart(3, '0')}AAA`,
  Name: `ERR-${String(n).padStart(6, '0')}`,
  Status__c: 'Open',
  Error_Code__c: 'INVALID_EMAIL_ADDRESS',
  Message__c: 'Email: invalid email address: not-an-email',
  Payload__c: null,
  Organization_User_Id__c: `user${n}@example.com`,
  Didomi_User_Id__c: `didomi-${n}`,
  Target_Object__c: 'Lead',
  Record_Id__c: null,
  Attempts__c: 1,
  Last_Failed_At__c: '2026-11-24T10:00:00.000Z',
  ...extra,
});

// Three graphql wires in one component: the list (variables.first), the counts per code
// (variables.groupWhere) and the pending bulk requests (variables.requestWhere).
const wires = () => [...((graphql as any)._wireInstances as Set<any>)].map((w) => w.getConfig());
const has = (key: string) => (config: any) => !!config?.variables && key in config.variables;
const listVars = () => wires().find(has('first'))!.variables;
const codeVars = () => wires().find(has('groupWhere'))!.variables;

function emitErrors(
  rows: Record<string, unknown>[],
  pageInfo = { hasNextPage: false, endCursor: null as string | null },
  refresh?: () => Promise<void>,
  totalCount = rows.length,
) {
  (graphql as any).emit(gqlData('Didomi_Sync_Error__c', connection(rows, { totalCount, pageInfo })), has('first'), refresh);
}
function emitCodes(counts: [string, number][], refresh?: () => Promise<void>) {
  const edges = counts.map(([code, n]) => ({ node: { aggregate: { Error_Code__c: { value: code }, Id: { count: { value: n } } } } }));
  (graphql as any).emit({ uiapi: { aggregate: { Didomi_Sync_Error__c: { edges } } } }, has('groupWhere'), refresh);
}
function emitPending(rows: Record<string, unknown>[], refresh?: () => Promise<void>) {
  (graphql as any).emit(gqlData('Didomi_Sync_Bulk_Request__c', connection(rows)), has('requestWhere'), refresh);
}
/** Lets LWC re-render under fake timers (flush() waits on a timer). */
const microtasks = () => Promise.resolve().then().then().then().then();
/** Mounted, with every wire configured (emits are filtered on the wires' variables). */
async function open() {
  const el = mount('c-didomi-error-queue', DidomiErrorQueue);
  await flush();
  return el;
}
const select = (el: HTMLElement, rows: Record<string, unknown>[]) =>
  $(el, 'lightning-datatable').dispatchEvent(new CustomEvent('rowselection', { detail: { selectedRows: rows } }));
const codeRow = (el: HTMLElement, code: string) => $$(el, '[data-id="by-code"] tbody tr').find((tr) => tr.dataset.code === code);

describe('c-didomi-error-queue', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
    jest.useRealTimers();
  });

  it('asks for open dead letters newest first, the counts per code, and pending bulk requests', async () => {
    mount('c-didomi-error-queue', DidomiErrorQueue);
    await flush();
    expect(listVars()).toEqual({ where: { Status__c: { eq: 'Open' } }, first: 20, after: null });
    expect(codeVars()).toEqual({ groupWhere: { Status__c: { eq: 'Open' } } });
    expect(wires().find(has('requestWhere'))!.variables).toEqual({ requestWhere: { Status__c: { eq: 'Pending' } } });
  });

  it('shows an empty state', async () => {
    const el = await open();
    emitErrors([]);
    emitCodes([]);
    await flush();
    expect($(el, '[data-id="empty"]').textContent).toBe('c.Didomi_Errors_Empty');
    expect($(el, '[data-id="retry"]').disabled).toBe(true);
    expect($(el, '[data-id="by-code"]')).toBeNull();
    await expect(el).toBeAccessible();
  });

  it('lists dead letters with whole codes, the message wrapped and a link to the failed record', async () => {
    const el = await open();
    emitErrors(
      [deadLetter(1, { Record_Id__c: '00Q000000000001AAA', Error_Code__c: 'FIELD_CUSTOM_VALIDATION_EXCEPTION' }), deadLetter(2)],
      undefined,
      undefined,
      10_000,
    );
    await flush();
    const table = $(el, 'lightning-datatable');
    expect(table.data.map((r: any) => r.Organization_User_Id__c)).toEqual(['user1@example.com', 'user2@example.com']);
    expect(table.data[0].recordUrl).toBe('/lightning/r/00Q000000000001AAA/view');
    expect(table.data[1].recordUrl).toBeNull();
    const col = (f: string) => table.columns.find((c: any) => c.fieldName === f);
    expect(col('Error_Code__c')).toMatchObject({ wrapText: true, initialWidth: 290 });
    expect(col('Message__c')).toMatchObject({ wrapText: true, initialWidth: 300 });
    expect(col('recordUrl')).toMatchObject({ type: 'url', typeAttributes: { label: { fieldName: 'Record_Id__c' } } });
    expect(table.keyField).toBe('Id');
    expect($(el, '[data-id="count"]').textContent).toBe('c.Didomi_Errors_Count'.replace('{0}', '10,000'));
    expect($(el, '[data-id="page"]').textContent).toBe('c.Didomi_Errors_Page');
    await expect(el).toBeAccessible();
  });

  it('groups by error code, most frequent first, with counts; a code narrows the list, not the counts', async () => {
    const el = await open();
    emitErrors([deadLetter(1)]);
    emitCodes([
      ['UNABLE_TO_LOCK_ROW', 12],
      ['FIELD_CUSTOM_VALIDATION_EXCEPTION', 9_876],
      ['REQUIRED_FIELD_MISSING', 112],
    ]);
    await flush();
    const rows = $$(el, '[data-id="by-code"] tbody tr');
    expect(rows.map((r) => r.dataset.code)).toEqual(['FIELD_CUSTOM_VALIDATION_EXCEPTION', 'REQUIRED_FIELD_MISSING', 'UNABLE_TO_LOCK_ROW']);
    expect(rows.map((r) => r.querySelector('[data-id="code-count"]').textContent)).toEqual(['9,876', '112', '12']);
    expect(rows[0].querySelector('[data-id="show-code"]').label).toBe('FIELD_CUSTOM_VALIDATION_EXCEPTION');
    await expect(el).toBeAccessible();
    rows[1].querySelector('[data-id="show-code"]').click();
    await flush();
    expect(listVars().where).toEqual({ and: [{ Status__c: { eq: 'Open' } }, { Error_Code__c: { eq: 'REQUIRED_FIELD_MISSING' } }] });
    expect(codeVars()).toEqual({ groupWhere: { Status__c: { eq: 'Open' } } });
    expect($(el, '[data-id="code-filter"]').value).toBe('REQUIRED_FIELD_MISSING');
    expect($(el, '[data-id="code-filter"]').options.map((o: any) => o.value)).toEqual([
      'All',
      'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      'REQUIRED_FIELD_MISSING',
      'UNABLE_TO_LOCK_ROW',
    ]);
  });

  it('"retry all N of a code" asks for confirmation, then creates one bulk request for the middleware', async () => {
    const el = await open();
    const requestsRefresh = jest.fn().mockResolvedValue(undefined);
    emitErrors([deadLetter(1)]);
    emitCodes([['FIELD_CUSTOM_VALIDATION_EXCEPTION', 9_876]]);
    emitPending([], requestsRefresh);
    await flush();
    change($(el, '[data-id="object-filter"]'), 'Lead');
    await flush();
    expect(codeVars()).toEqual({ groupWhere: { and: [{ Status__c: { eq: 'Open' } }, { Target_Object__c: { eq: 'Lead' } }] } });
    const toasts: any[] = [];
    el.addEventListener('lightning__showtoast', (e: any) => toasts.push(e.detail));
    const retryAll = codeRow(el, 'FIELD_CUSTOM_VALIDATION_EXCEPTION').querySelector('[data-id="retry-all"]');
    expect(retryAll.label).toBe('c.Didomi_Errors_Retry_All');
    retryAll.click();
    await flush();
    expect(createRecord).not.toHaveBeenCalled();
    expect($(el, '[data-id="confirm"]').getAttribute('role')).toBe('alertdialog');
    await expect(el).toBeAccessible();
    $(el, '[data-id="confirm-bulk"]').click();
    await flush();
    expect((createRecord as jest.Mock).mock.calls).toEqual([
      [
        {
          apiName: 'Didomi_Sync_Bulk_Request__c',
          fields: { Action__c: 'Retry', Error_Code__c: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', From_Status__c: 'Open', Target_Object__c: 'Lead' },
        },
      ],
    ]);
    expect(updateRecord).not.toHaveBeenCalled();
    expect(toasts.map((t) => t.title)).toEqual(['c.Didomi_Errors_Bulk_Sent']);
    expect(requestsRefresh).toHaveBeenCalled();
    expect($(el, '[data-id="confirm"]')).toBeNull();
  });

  it('"dismiss all" from Retry Requested, across every object; cancel creates nothing', async () => {
    const el = await open();
    emitErrors([deadLetter(1)]);
    emitCodes([['UNABLE_TO_LOCK_ROW', 3]]);
    await flush();
    codeRow(el, 'UNABLE_TO_LOCK_ROW').querySelector('[data-id="dismiss-all"]').click();
    await flush();
    $(el, '[data-id="cancel-bulk"]').click();
    await flush();
    expect($(el, '[data-id="confirm"]')).toBeNull();
    change($(el, '[data-id="status-filter"]'), 'Retry Requested');
    emitCodes([['UNABLE_TO_LOCK_ROW', 3]]);
    await flush();
    expect(codeRow(el, 'UNABLE_TO_LOCK_ROW').querySelector('[data-id="retry-all"]').disabled).toBe(true);
    codeRow(el, 'UNABLE_TO_LOCK_ROW').querySelector('[data-id="dismiss-all"]').click();
    await flush();
    $(el, '[data-id="confirm-bulk"]').click();
    await flush();
    expect((createRecord as jest.Mock).mock.calls.map((c) => c[0].fields)).toEqual([
      { Action__c: 'Dismiss', Error_Code__c: 'UNABLE_TO_LOCK_ROW', From_Status__c: 'Retry Requested', Target_Object__c: null },
    ]);
  });

  it('offers no bulk action where it makes no sense: retry from Dismissed only, none from Resolved or All', async () => {
    const el = await open();
    const state = async (status: string) => {
      change($(el, '[data-id="status-filter"]'), status);
      emitCodes([['X', 1]]);
      await flush();
      const row = codeRow(el, 'X');
      return [row.querySelector('[data-id="retry-all"]').disabled, row.querySelector('[data-id="dismiss-all"]').disabled];
    };
    expect(await state('Open')).toEqual([false, false]);
    expect(await state('Dismissed')).toEqual([false, true]);
    expect(await state('Retry Requested')).toEqual([true, false]);
    expect(await state('Resolved')).toEqual([true, true]);
    expect(await state('All')).toEqual([true, true]);
    expect(codeVars()).toEqual({ groupWhere: {} });
  });

  it('keeps the selection across pages and retries every selected dead letter', async () => {
    const el = await open();
    const page1 = [deadLetter(1), deadLetter(2), deadLetter(3)];
    const page2 = [deadLetter(21), deadLetter(22)];
    emitErrors(page1, { hasNextPage: true, endCursor: 'MjA=' }, undefined, 25);
    await flush();
    select(el, [page1[0], page1[2]]);
    await flush();
    $(el, '[data-id="next"]').click();
    await flush();
    expect(listVars().after).toBe('MjA=');
    emitErrors(page2, undefined, undefined, 25);
    await flush();
    expect($(el, 'lightning-datatable').selectedRows).toEqual([]);
    select(el, [page2[1]]);
    await flush();
    expect($(el, '[data-id="selected"]').textContent).toBe('c.Didomi_Errors_Selected');
    $(el, '[data-id="previous"]').click();
    emitErrors(page1, { hasNextPage: true, endCursor: 'MjA=' }, undefined, 25);
    await flush();
    expect($(el, 'lightning-datatable').selectedRows).toEqual([page1[0].Id, page1[2].Id]);
    // deselecting one on this page keeps the other page's selection
    select(el, [page1[0]]);
    await flush();
    $(el, '[data-id="retry"]').click();
    await flush();
    expect((updateRecord as jest.Mock).mock.calls.map((c) => c[0])).toEqual([
      { fields: { Id: page2[1].Id, Status__c: 'Retry Requested' } },
      { fields: { Id: page1[0].Id, Status__c: 'Retry Requested' } },
    ]);
    expect($(el, '[data-id="selected"]')).toBeNull();
  });

  it('dismisses, reports the records the server refused and keeps only those selected', async () => {
    const el = await open();
    const rows = [deadLetter(1), deadLetter(2)];
    const refresh = jest.fn().mockResolvedValue(undefined);
    emitErrors(rows, undefined, refresh);
    await flush();
    (updateRecord as jest.Mock).mockResolvedValueOnce({}).mockRejectedValueOnce({ body: { message: 'entity is deleted' } });
    select(el, rows);
    await flush();
    $(el, '[data-id="dismiss"]').click();
    await flush();
    expect((updateRecord as jest.Mock).mock.calls.map((c) => c[0].fields.Status__c)).toEqual(['Dismissed', 'Dismissed']);
    expect($(el, '[data-id="error"]').textContent).toBe('entity is deleted');
    expect(refresh).toHaveBeenCalled();
    expect($(el, 'lightning-datatable').selectedRows).toEqual([rows[1].Id]);
  });

  it('filters by status, object, dates and Didomi user (a literal search), and pages with the cursor', async () => {
    const el = await open();
    emitErrors([deadLetter(1)], { hasNextPage: true, endCursor: 'MjA=' });
    await flush();
    $(el, '[data-id="next"]').click();
    await flush();
    change($(el, '[data-id="status-filter"]'), 'All');
    await flush();
    expect(listVars()).toEqual({ where: {}, first: 20, after: null });
    change($(el, '[data-id="object-filter"]'), 'Contact');
    change($(el, '[data-id="from-filter"]'), '2026-11-01');
    change($(el, '[data-id="to-filter"]'), '2026-11-24');
    await flush();
    jest.useFakeTimers();
    change($(el, '[data-id="search"]'), '50%_off');
    jest.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 1);
    await microtasks();
    expect(listVars().where.and).toHaveLength(3); // not yet: the admin may still be typing
    jest.advanceTimersByTime(1);
    await microtasks();
    jest.useRealTimers();
    const where = listVars().where.and;
    expect(where[0]).toEqual({ Target_Object__c: { eq: 'Contact' } });
    expect(where[1]).toEqual({ Last_Failed_At__c: { gte: new Date('2026-11-01T00:00:00').toISOString() } });
    expect(where[2]).toEqual({ Last_Failed_At__c: { lt: new Date('2026-11-25T00:00:00').toISOString() } });
    expect(where[3]).toEqual({ or: [{ Organization_User_Id__c: { like: '%50\\%\\_off%' } }, { Didomi_User_Id__c: { like: '%50\\%\\_off%' } }] });
    change($(el, '[data-id="page-size"]'), '200');
    await flush();
    expect(listVars().first).toBe(200);
    $(el, '[data-id="clear-filters"]').click();
    await flush();
    expect(listVars()).toEqual({ where: { Status__c: { eq: 'Open' } }, first: 200, after: null });
  });

  it('shows the full reason and the payload of a dead letter, and opens the record that failed', async () => {
    const el = await open();
    const long = 'Marketing preferences of this lead are locked by Legal. '.repeat(20);
    const row = deadLetter(7, { Message__c: long, Payload__c: '{"HasOptedOutOfEmail":true}', Record_Id__c: '00Q000000000007AAA' });
    emitErrors([row]);
    await flush();
    $(el, 'lightning-datatable').dispatchEvent(
      new CustomEvent('rowaction', { detail: { action: { name: 'details' }, row: $(el, 'lightning-datatable').data[0] } }),
    );
    await flush();
    expect($(el, '[data-id="detail-message"]').textContent).toBe(long);
    expect($(el, '[data-id="detail-payload"]').textContent).toBe('{\n  "HasOptedOutOfEmail": true\n}');
    expect($(el, '[data-id="detail-attempts"]').textContent).toBe('1');
    expect($(el, '[data-id="detail"] h3').textContent).toBe('ERR-000007 · INVALID_EMAIL_ADDRESS');
    await expect(el).toBeAccessible();
    $(el, '[data-id="open-failed-record"]').click();
    expect(getNavigateCalledWith().pageReference).toEqual({
      type: 'standard__recordPage',
      attributes: { recordId: '00Q000000000007AAA', objectApiName: 'Lead', actionName: 'view' },
    });
    $(el, '[data-id="close-detail"]').click();
    await flush();
    expect($(el, '[data-id="detail"]')).toBeNull();
  });

  it('opens a dead letter record page', async () => {
    const el = await open();
    const row = deadLetter(7);
    emitErrors([row]);
    await flush();
    $(el, 'lightning-datatable').dispatchEvent(new CustomEvent('rowaction', { detail: { action: { name: 'open' }, row } }));
    expect(getNavigateCalledWith().pageReference).toEqual({
      type: 'standard__recordPage',
      attributes: { recordId: row.Id, objectApiName: 'Didomi_Sync_Error__c', actionName: 'view' },
    });
  });

  it('refreshes the list, the counts and the requests on demand and every 30 s while auto-refresh is on', async () => {
    const el = await open();
    jest.useFakeTimers();
    const [list, codes, requests] = [jest.fn(), jest.fn(), jest.fn()].map((f) => f.mockResolvedValue(undefined));
    emitErrors([deadLetter(1)], undefined, list);
    emitCodes([['X', 1]], codes);
    emitPending([], requests);
    await Promise.resolve();
    $(el, '[data-id="refresh"]').click();
    expect([list, codes, requests].map((f) => f.mock.calls.length)).toEqual([1, 1, 1]);
    jest.advanceTimersByTime(AUTO_REFRESH_MS * 2);
    expect(list).toHaveBeenCalledTimes(1);
    change($(el, '[data-id="auto-refresh"]'), true);
    jest.advanceTimersByTime(AUTO_REFRESH_MS * 2);
    expect([list, codes, requests].map((f) => f.mock.calls.length)).toEqual([3, 3, 3]);
    change($(el, '[data-id="auto-refresh"]'), false);
    jest.advanceTimersByTime(AUTO_REFRESH_MS * 2);
    expect(list).toHaveBeenCalledTimes(3);
  });

  it('shows the bulk requests the middleware has not finished', async () => {
    const el = await open();
    emitPending([{ Id: 'a03000000000001AAA', Action__c: 'Retry', Error_Code__c: 'UNABLE_TO_LOCK_ROW', Target_Object__c: null, Records_Affected__c: 2000 }]);
    await flush();
    expect($(el, '[data-id="pending"]').textContent).toBe('c.Didomi_Errors_Bulk_Pending');
    expect($(el, '[data-id="pending"]').getAttribute('role')).toBe('status');
  });

  it('shows GraphQL errors in plain words', async () => {
    const el = await open();
    (graphql as any).emitErrors([{ message: "Validation error of type FieldUndefined: Field 'Didomi_Sync_Error__c' is undefined" }], has('first'));
    await flush();
    expect($(el, '[data-id="error"]').textContent).toContain('FieldUndefined');
    await expect(el).toBeAccessible();
  });
});

describe('error queue filters', () => {
  it('escapes LIKE wildcards and the escape character in a search', () => {
    expect(likeContains('a%b_c\\d')).toBe('%a\\%b\\_c\\\\d%');
  });
  it('no filter at all is an empty where', () => {
    expect(listWhere({ ...noFilters(), status: 'All' })).toEqual({});
  });
});
