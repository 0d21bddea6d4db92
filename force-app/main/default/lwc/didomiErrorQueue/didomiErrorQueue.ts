// The dead-letter queue: Didomi_Sync_Error__c records filtered by status, newest first, paged. The
// admin requests a retry (the middleware picks up "Retry Requested" rows) or dismisses, one or many.
import { LightningElement, wire } from 'lwc';
import { gql, graphql } from 'lightning/graphql';
import { updateRecord } from 'lightning/uiRecordApi';
import { NavigationMixin } from 'lightning/navigation';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import { LABELS, format } from 'c/didomiSyncLabels';
import { ERROR_STATUSES, nodes, reduceErrors } from 'c/didomiSyncRules';

export const PAGE_SIZE = 20;
const ALL = 'All';

const COLUMNS = [
  { label: LABELS.Col_Number, fieldName: 'Name', type: 'text', initialWidth: 120 },
  { label: LABELS.Col_Status, fieldName: 'Status__c', type: 'text', initialWidth: 130 },
  { label: LABELS.Col_Code, fieldName: 'Error_Code__c', type: 'text', initialWidth: 190 },
  { label: LABELS.Col_Message, fieldName: 'Message__c', type: 'text', wrapText: true },
  { label: LABELS.Col_User, fieldName: 'Organization_User_Id__c', type: 'text' },
  { label: LABELS.Col_Object, fieldName: 'Target_Object__c', type: 'text', initialWidth: 100 },
  { label: LABELS.Col_Attempts, fieldName: 'Attempts__c', type: 'number', initialWidth: 100 },
  {
    label: LABELS.Col_Last_Failed,
    fieldName: 'Last_Failed_At__c',
    type: 'date',
    typeAttributes: { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' },
  },
  { type: 'action', typeAttributes: { rowActions: [{ label: LABELS.Errors_Open_Record, name: 'open' }] } },
];

export default class DidomiErrorQueue extends NavigationMixin(LightningElement) {
  labels = LABELS;
  columns = COLUMNS;
  status = 'Open';
  cursors: (string | null)[] = [null];
  result?: GraphQLResult;
  rows: Record<string, any>[] = [];
  totalCount = 0;
  hasNextPage = false;
  endCursor: string | null = null;
  selectedIds: string[] = [];
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
    if (result.errors?.length) {
      this.error = reduceErrors(result.errors);
      this.loaded = true;
    } else if (result.data) {
      const conn = result.data.uiapi.query.Didomi_Sync_Error__c;
      this.rows = nodes(conn);
      this.totalCount = conn.totalCount ?? this.rows.length;
      this.hasNextPage = !!conn.pageInfo?.hasNextPage;
      this.endCursor = conn.pageInfo?.endCursor ?? null;
      this.error = '';
      this.loaded = true;
    }
  }

  get variables() {
    return {
      where: this.status === ALL ? {} : { Status__c: { eq: this.status } },
      first: PAGE_SIZE,
      after: this.cursors[this.cursors.length - 1],
    };
  }
  get statusOptions() {
    return [...ERROR_STATUSES, ALL].map((s) => ({ label: s === ALL ? LABELS.Errors_All : s, value: s }));
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
    return format(LABELS.Errors_Count, this.totalCount);
  }
  get pageText() {
    return `${this.cursors.length}`;
  }
  get noPrevious() {
    return this.cursors.length <= 1;
  }
  get noNext() {
    return !this.hasNextPage;
  }
  get nothingSelected() {
    return this.busy || this.selectedIds.length === 0;
  }

  handleStatus(event: CustomEvent<{ value: string }>) {
    this.status = event.detail.value;
    this.cursors = [null];
    this.selectedIds = [];
  }
  handleNext() {
    if (this.hasNextPage) this.cursors = [...this.cursors, this.endCursor];
  }
  handlePrevious() {
    if (this.cursors.length > 1) this.cursors = this.cursors.slice(0, -1);
  }
  handleSelection(event: CustomEvent<{ selectedRows: { Id: string }[] }>) {
    this.selectedIds = event.detail.selectedRows.map((r) => r.Id);
  }
  handleRowAction(event: CustomEvent<{ action: { name: string }; row: { Id: string } }>) {
    if (event.detail.action.name === 'open') {
      (this as any)[NavigationMixin.Navigate]({
        type: 'standard__recordPage',
        attributes: { recordId: event.detail.row.Id, objectApiName: 'Didomi_Sync_Error__c', actionName: 'view' },
      });
    }
  }
  handleRetry() {
    return this.setStatus('Retry Requested');
  }
  handleDismiss() {
    return this.setStatus('Dismissed');
  }

  async setStatus(status: string) {
    if (!this.selectedIds.length) {
      this.error = LABELS.Errors_Select_First;
      return;
    }
    this.busy = true;
    const ids = this.selectedIds;
    // One UI API call per record: LDS has no bulk update, and a dead-letter page holds at most PAGE_SIZE rows.
    const outcomes = await Promise.allSettled(ids.map((Id) => updateRecord({ fields: { Id, Status__c: status } })));
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    const done = ids.length - failed.length;
    if (done) this.dispatchEvent(new ShowToastEvent({ title: format(LABELS.Errors_Updated, done), message: status, variant: 'success' }));
    this.error = failed.length ? reduceErrors(failed.map((f) => f.reason)) : '';
    this.selectedIds = [];
    this.busy = false;
    await this.result?.refresh?.();
  }
}
