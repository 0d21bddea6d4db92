// The dead-letter queue, built for 10,000 errors: counts by error code (a GraphQL aggregate), with
// "retry / dismiss all N of this code" as one Didomi_Sync_Bulk_Request__c the middleware carries out
// server-side; filters by status, code, object, date and Didomi user; a selection kept across
// pages; the full message and payload of a row; a link to the failed record; refresh and auto-refresh.
import { LightningElement, wire } from 'lwc';
import { gql, graphql } from 'lightning/graphql';
import { createRecord, updateRecord } from 'lightning/uiRecordApi';
import { NavigationMixin } from 'lightning/navigation';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import { LABELS, format } from 'c/didomiSyncLabels';
import { ERROR_STATUSES, TARGET_OBJECTS, changedValue, listResult, nodes, reduceErrors } from 'c/didomiSyncRules';
import { ALL, bulkActions, codeCounts, listWhere, noFilters, recordUrl, summaryWhere, type QueueFilters } from './errorQueueFilters';

export const PAGE_SIZES = [20, 50, 200];
export const AUTO_REFRESH_MS = 30_000;
export const SEARCH_DEBOUNCE_MS = 300;
/** updateRecord calls in flight at once when a selection is retried or dismissed (LDS has no bulk update). */
const PARALLEL_UPDATES = 10;

// Fixed widths add up to about 1,300 px, which fits a 1,440 px screen; below that the table
// scrolls inside its card. The record number and attempts are in the details panel.
const COLUMNS = [
  { label: LABELS.Col_Status, fieldName: 'Status__c', type: 'text', initialWidth: 110 },
  // Codes are long single words (FIELD_CUSTOM_VALIDATION_EXCEPTION): wide enough to read whole.
  { label: LABELS.Col_Code, fieldName: 'Error_Code__c', type: 'text', initialWidth: 290, wrapText: true },
  // A fixed width: left flexible, it shrank to a letter per line at 800 px.
  { label: LABELS.Col_Message, fieldName: 'Message__c', type: 'text', wrapText: true, initialWidth: 300 },
  { label: LABELS.Col_User, fieldName: 'Organization_User_Id__c', type: 'text', initialWidth: 180 },
  { label: LABELS.Col_Object, fieldName: 'Target_Object__c', type: 'text', initialWidth: 90 },
  {
    label: LABELS.Col_Record,
    fieldName: 'recordUrl',
    type: 'url',
    initialWidth: 160,
    typeAttributes: { label: { fieldName: 'Record_Id__c' }, target: '_self', tooltip: LABELS.Errors_Open_Failed_Record },
  },
  {
    label: LABELS.Col_Last_Failed,
    fieldName: 'Last_Failed_At__c',
    type: 'date',
    initialWidth: 160,
    typeAttributes: { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' },
  },
  {
    type: 'action',
    typeAttributes: {
      rowActions: [
        { label: LABELS.Errors_Details, name: 'details' },
        { label: LABELS.Errors_Open_Record, name: 'open' },
      ],
    },
  },
];

type Row = Record<string, any>;

export default class DidomiErrorQueue extends NavigationMixin(LightningElement) {
  labels = LABELS;
  columns = COLUMNS;
  filters: QueueFilters = noFilters();
  pageSize = PAGE_SIZES[0];
  cursors: (string | null)[] = [null];
  result?: GraphQLResult;
  summaryResult?: GraphQLResult;
  requestsResult?: GraphQLResult;
  rows: Row[] = [];
  totalCount = 0;
  hasNextPage = false;
  endCursor: string | null = null;
  /** Selected rows by Id, across pages. */
  selection = new Map<string, Row>();
  codes: { code: string; count: number }[] = [];
  pending: Row[] = [];
  /** The bulk action waiting for the admin's confirmation. */
  confirming: { action: 'Retry' | 'Dismiss'; code: string; count: number } | null = null;
  detail: Row | null = null;
  autoRefresh = false;
  timer: ReturnType<typeof setInterval> | null = null;
  searchTimer: ReturnType<typeof setTimeout> | null = null;
  loaded = false;
  error = '';
  busy = false;

  @wire(graphql, {
    query: gql`
      query didomiSyncErrors($where: Didomi_Sync_Error__c_Filter, $first: Int, $after: String) {
        uiapi {
          query {
            Didomi_Sync_Error__c(where: $where, first: $first, after: $after, orderBy: { Last_Failed_At__c: { order: DESC }, CreatedDate: { order: DESC } }) {
              edges {
                node {
                  Id
                  Name {
                    value
                  }
                  Status__c {
                    value
                  }
                  Error_Code__c {
                    value
                  }
                  Message__c {
                    value
                  }
                  Payload__c {
                    value
                  }
                  Organization_User_Id__c {
                    value
                  }
                  Didomi_User_Id__c {
                    value
                  }
                  Target_Object__c {
                    value
                  }
                  Record_Id__c {
                    value
                  }
                  Attempts__c {
                    value
                  }
                  Last_Failed_At__c {
                    value
                  }
                }
              }
              totalCount
              pageInfo {
                hasNextPage
                endCursor
              }
            }
          }
        }
      }
    `,
    variables: '$variables',
  })
  wiredErrors(result: GraphQLResult) {
    this.result = result;
    const list = listResult(result, 'Didomi_Sync_Error__c');
    if (!list) return;
    const conn = list.connection;
    if (conn) {
      this.rows = nodes(conn).map((r) => ({ ...r, recordUrl: recordUrl(r.Record_Id__c) }));
      this.totalCount = conn.totalCount ?? this.rows.length;
      this.hasNextPage = !!conn.pageInfo?.hasNextPage;
      this.endCursor = conn.pageInfo?.endCursor ?? null;
    }
    this.error = list.error;
    this.loaded = true;
  }

  // Counts per code: the GraphQL API's aggregate with groupBy (API v58.0+, "Group Aggregate Results").
  @wire(graphql, {
    query: gql`
      query didomiSyncErrorCodes($groupWhere: Didomi_Sync_Error__c_Filter) {
        uiapi {
          aggregate {
            Didomi_Sync_Error__c(where: $groupWhere, groupBy: { Error_Code__c: { group: true } }, first: 200) {
              edges {
                node {
                  aggregate {
                    Error_Code__c {
                      value
                    }
                    Id {
                      count {
                        value
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    `,
    variables: '$summaryVariables',
  })
  wiredCodes(result: GraphQLResult) {
    this.summaryResult = result;
    const agg = result.data?.uiapi?.aggregate?.Didomi_Sync_Error__c;
    if (agg) this.codes = codeCounts(agg);
    else if (result.errors?.length) this.error = reduceErrors(result.errors);
  }

  @wire(graphql, {
    query: gql`
      query didomiSyncBulkRequests($requestWhere: Didomi_Sync_Bulk_Request__c_Filter) {
        uiapi {
          query {
            Didomi_Sync_Bulk_Request__c(where: $requestWhere, first: 20, orderBy: { CreatedDate: { order: ASC } }) {
              edges {
                node {
                  Id
                  Action__c {
                    value
                  }
                  Error_Code__c {
                    value
                  }
                  Target_Object__c {
                    value
                  }
                  Records_Affected__c {
                    value
                  }
                }
              }
            }
          }
        }
      }
    `,
    variables: '$requestVariables',
  })
  wiredRequests(result: GraphQLResult) {
    this.requestsResult = result;
    const conn = result.data?.uiapi?.query?.Didomi_Sync_Bulk_Request__c;
    if (conn) this.pending = nodes(conn);
  }

  disconnectedCallback() {
    this.stopTimer();
    if (this.searchTimer) clearTimeout(this.searchTimer);
  }

  get variables() {
    return { where: listWhere(this.filters), first: this.pageSize, after: this.cursors[this.cursors.length - 1] };
  }
  get summaryVariables() {
    return { groupWhere: summaryWhere(this.filters) };
  }
  get requestVariables() {
    return { requestWhere: { Status__c: { eq: 'Pending' } } };
  }

  get statusOptions() {
    return [...ERROR_STATUSES, ALL].map((s) => ({ label: s === ALL ? LABELS.Errors_All : s, value: s }));
  }
  get objectOptions() {
    return [ALL, ...TARGET_OBJECTS].map((s) => ({ label: s === ALL ? LABELS.Errors_All : s, value: s }));
  }
  get codeOptions() {
    const known = this.codes.map((c) => c.code);
    if (this.filters.code !== ALL && !known.includes(this.filters.code)) known.push(this.filters.code);
    return [{ label: LABELS.Errors_All, value: ALL }, ...known.map((c) => ({ label: c || LABELS.Errors_No_Code, value: c }))];
  }
  get pageSizeOptions() {
    return PAGE_SIZES.map((n) => ({ label: String(n), value: String(n) }));
  }
  get pageSizeValue() {
    return String(this.pageSize);
  }
  get codeRows() {
    const can = bulkActions(this.filters.status);
    return this.codes.map((c) => ({
      ...c,
      key: c.code || '-',
      label: c.code || LABELS.Errors_No_Code,
      countText: c.count.toLocaleString(),
      retryLabel: format(LABELS.Errors_Retry_All, c.count.toLocaleString()),
      dismissLabel: format(LABELS.Errors_Dismiss_All, c.count.toLocaleString()),
      showLabel: format(LABELS.Errors_Show_Code, c.code || LABELS.Errors_No_Code),
      noRetry: this.busy || !can.retry || !c.code,
      noDismiss: this.busy || !can.dismiss || !c.code,
      rowClass: c.code === this.filters.code ? 'slds-is-selected' : '',
    }));
  }
  get hasCodes() {
    return this.codes.length > 0;
  }
  get pendingText() {
    return this.pending.map((p) =>
      format(LABELS.Errors_Bulk_Pending, p.Action__c, p.Error_Code__c, p.Target_Object__c ?? LABELS.Errors_All, p.Records_Affected__c ?? 0),
    );
  }
  get hasPending() {
    return this.pending.length > 0;
  }
  get confirmText() {
    const c = this.confirming;
    if (!c) return '';
    const object = this.filters.object === ALL ? LABELS.Errors_All : this.filters.object;
    return format(
      c.action === 'Retry' ? LABELS.Errors_Confirm_Retry : LABELS.Errors_Confirm_Dismiss,
      c.count.toLocaleString(),
      c.code,
      this.filters.status,
      object,
    );
  }
  get loading() {
    return !this.loaded;
  }
  get empty() {
    return this.loaded && !this.error && this.rows.length === 0;
  }
  get hasRows() {
    return this.rows.length > 0;
  }
  get countText() {
    return format(LABELS.Errors_Count, this.totalCount.toLocaleString());
  }
  get selectedText() {
    return format(LABELS.Errors_Selected, this.selection.size);
  }
  get hasSelection() {
    return this.selection.size > 0;
  }
  /** The datatable's selected rows: the selected ones on this page. */
  get selectedIds() {
    return this.rows.filter((r) => this.selection.has(r.Id)).map((r) => r.Id);
  }
  get pageText() {
    return format(LABELS.Errors_Page, this.cursors.length, Math.max(1, Math.ceil(this.totalCount / this.pageSize)));
  }
  get noPrevious() {
    return this.cursors.length <= 1;
  }
  get noNext() {
    return !this.hasNextPage;
  }
  get nothingSelected() {
    return this.busy || this.selection.size === 0;
  }
  get detailPayload() {
    const raw = this.detail?.Payload__c;
    if (!raw) return '';
    try {
      return JSON.stringify(JSON.parse(raw), null, 2);
    } catch {
      return String(raw);
    }
  }
  get detailRecordUrl() {
    return recordUrl(this.detail?.Record_Id__c);
  }

  // ---------- filters and paging ----------

  setFilter(name: keyof QueueFilters, value: string) {
    this.filters = { ...this.filters, [name]: value };
    this.cursors = [null];
    this.confirming = null;
  }
  handleFilter(event: Event) {
    const name = (event.target as HTMLElement).dataset.filter as keyof QueueFilters;
    this.setFilter(name, String(changedValue(event) ?? ''));
  }
  /** The search re-queries once typing pauses, not on every key. */
  handleSearch(event: Event) {
    const value = String(changedValue(event) ?? '');
    if (this.searchTimer) clearTimeout(this.searchTimer);
    // eslint-disable-next-line @lwc/lwc/no-async-operation -- a debounce; cleared on disconnect
    this.searchTimer = setTimeout(() => this.setFilter('search', value), SEARCH_DEBOUNCE_MS);
  }
  handleShowCode(event: Event) {
    this.setFilter('code', (event.currentTarget as HTMLElement).dataset.code ?? ALL);
  }
  handleClearFilters() {
    this.filters = noFilters();
    this.cursors = [null];
    this.confirming = null;
  }
  handlePageSize(event: Event) {
    this.pageSize = Number(changedValue(event)) || PAGE_SIZES[0];
    this.cursors = [null];
  }
  handleNext() {
    if (this.hasNextPage) this.cursors = [...this.cursors, this.endCursor];
  }
  handlePrevious() {
    if (this.cursors.length > 1) this.cursors = this.cursors.slice(0, -1);
  }

  // ---------- selection, kept across pages ----------

  handleSelection(event: CustomEvent<{ selectedRows: Row[] }>) {
    const next = new Map(this.selection);
    for (const r of this.rows) next.delete(r.Id);
    for (const r of event.detail.selectedRows) next.set(r.Id, r);
    this.selection = next;
  }
  handleClearSelection() {
    this.selection = new Map();
  }

  // ---------- rows ----------

  handleRowAction(event: CustomEvent<{ action: { name: string }; row: Row }>) {
    const { action, row } = event.detail;
    if (action.name === 'details') this.detail = row;
    else if (action.name === 'open') {
      (this as any)[NavigationMixin.Navigate]({
        type: 'standard__recordPage',
        attributes: { recordId: row.Id, objectApiName: 'Didomi_Sync_Error__c', actionName: 'view' },
      });
    }
  }
  handleCloseDetail() {
    this.detail = null;
  }
  handleOpenFailedRecord() {
    if (!this.detail?.Record_Id__c) return;
    (this as any)[NavigationMixin.Navigate]({
      type: 'standard__recordPage',
      attributes: { recordId: this.detail.Record_Id__c, objectApiName: this.detail.Target_Object__c, actionName: 'view' },
    });
  }

  // ---------- refresh ----------

  async handleRefresh() {
    await Promise.all([this.result?.refresh?.(), this.summaryResult?.refresh?.(), this.requestsResult?.refresh?.()]);
  }
  handleAutoRefresh(event: Event) {
    this.autoRefresh = !!changedValue(event);
    this.stopTimer();
    // eslint-disable-next-line @lwc/lwc/no-async-operation -- the admin's own choice; cleared on disconnect
    if (this.autoRefresh) this.timer = setInterval(() => this.handleRefresh(), AUTO_REFRESH_MS);
  }
  stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  // ---------- one record at a time (the selection) ----------

  handleRetry() {
    return this.setStatus('Retry Requested');
  }
  handleDismiss() {
    return this.setStatus('Dismissed');
  }

  async setStatus(status: string) {
    if (!this.selection.size) {
      this.error = LABELS.Errors_Select_First;
      return;
    }
    this.busy = true;
    const ids = [...this.selection.keys()];
    const failed: unknown[] = [];
    const failedIds: string[] = [];
    for (let i = 0; i < ids.length; i += PARALLEL_UPDATES) {
      const part = ids.slice(i, i + PARALLEL_UPDATES);
      // eslint-disable-next-line no-await-in-loop -- a few at a time, not hundreds of requests at once
      const outcomes = await Promise.allSettled(part.map((Id) => updateRecord({ fields: { Id, Status__c: status } })));
      outcomes.forEach((o, j) => {
        if (o.status === 'rejected') {
          failed.push(o.reason);
          failedIds.push(part[j]);
        }
      });
    }
    const done = ids.length - failed.length;
    if (done) this.dispatchEvent(new ShowToastEvent({ title: format(LABELS.Errors_Updated, done), message: status, variant: 'success' }));
    this.error = failed.length ? reduceErrors(failed) : '';
    // What failed stays selected, so the admin can try again.
    this.selection = new Map(failedIds.map((id) => [id, this.selection.get(id)!]));
    this.busy = false;
    await this.handleRefresh();
  }

  // ---------- every dead letter of a code (server-side) ----------

  handleBulk(event: Event) {
    const data = (event.currentTarget as HTMLElement).dataset;
    const code = data.code ?? '';
    const count = this.codes.find((c) => c.code === code)?.count ?? 0;
    this.confirming = { action: data.action === 'Dismiss' ? 'Dismiss' : 'Retry', code, count };
  }
  handleCancelBulk() {
    this.confirming = null;
  }
  async handleConfirmBulk() {
    const c = this.confirming;
    if (!c) return;
    this.busy = true;
    try {
      await createRecord({
        apiName: 'Didomi_Sync_Bulk_Request__c',
        fields: {
          Action__c: c.action,
          Error_Code__c: c.code,
          From_Status__c: this.filters.status,
          Target_Object__c: this.filters.object === ALL ? null : this.filters.object,
        },
      });
      this.dispatchEvent(new ShowToastEvent({ title: LABELS.Errors_Bulk_Sent, message: `${c.action}: ${c.code}`, variant: 'success' }));
      this.confirming = null;
      this.error = '';
    } catch (e) {
      this.error = reduceErrors(e);
    }
    this.busy = false;
    await this.requestsResult?.refresh?.();
  }
}
