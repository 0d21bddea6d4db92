// Health at a glance: the freshest heartbeat the middleware wrote to Didomi_Sync_Status__c, today's
// counters, API usage and the last error. Red when the heartbeat is stale.
import { LightningElement, wire } from 'lwc';
import { gql, graphql } from 'lightning/graphql';
import { LABELS, format } from 'c/didomiSyncLabels';
import { ageText, isStale, nodes, reduceErrors, STALE_AFTER_MS } from 'c/didomiSyncRules';

const TICK_MS = 15_000;

export default class DidomiSyncStatus extends LightningElement {
  labels = LABELS;
  result?: GraphQLResult;
  rows: Record<string, any>[] = [];
  error = '';
  loaded = false;
  now = Date.now();
  private timer?: ReturnType<typeof setInterval>;

  @wire(graphql, {
    query: gql`
      query didomiSyncStatus {
        uiapi {
          query {
            Didomi_Sync_Status__c(first: 5, orderBy: { Last_Heartbeat__c: { order: DESC, nulls: LAST } }) {
              edges {
                node {
                  Id
                  Name {
                    value
                  }
                  Instance_Id__c {
                    value
                  }
                  Version__c {
                    value
                  }
                  Last_Heartbeat__c {
                    value
                  }
                  Events_Accepted_Today__c {
                    value
                  }
                  Events_Synced_Today__c {
                    value
                  }
                  Events_Failed_Today__c {
                    value
                  }
                  Queue_Depth__c {
                    value
                  }
                  Api_Usage_Used__c {
                    value
                  }
                  Api_Usage_Max__c {
                    value
                  }
                  Last_Error__c {
                    value
                  }
                  Last_Error_At__c {
                    value
                  }
                }
              }
            }
          }
        }
      }
    `,
  })
  wiredStatus(result: GraphQLResult) {
    this.result = result;
    if (result.errors?.length) {
      this.error = reduceErrors(result.errors);
      this.loaded = true;
    } else if (result.data) {
      this.rows = nodes(result.data.uiapi.query.Didomi_Sync_Status__c);
      this.error = '';
      this.loaded = true;
    }
  }

  connectedCallback() {
    // The age of the heartbeat must keep moving while the tab stays open, and new beats should show up.
    // eslint-disable-next-line @lwc/lwc/no-async-operation
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
  }

  async tick() {
    this.now = Date.now();
    await this.result?.refresh?.();
  }

  handleRefresh() {
    return this.tick();
  }

  get loading() {
    return !this.loaded;
  }
  get empty() {
    return this.loaded && !this.error && this.rows.length === 0;
  }
  get latest() {
    return this.rows[0];
  }
  get hasStatus() {
    return !!this.latest && !this.error;
  }
  get stale() {
    return isStale(this.latest?.Last_Heartbeat__c, this.now);
  }
  get badgeLabel() {
    return this.stale ? LABELS.Status_Stale : LABELS.Status_Alive;
  }
  get badgeClass() {
    return this.stale ? 'slds-badge slds-theme_error' : 'slds-badge slds-theme_success';
  }
  get boxClass() {
    return this.stale ? 'slds-box slds-theme_shade slds-border_left status-stale' : 'slds-box status-alive';
  }
  get heartbeatAge() {
    const t = Date.parse(this.latest?.Last_Heartbeat__c ?? '');
    return Number.isNaN(t) ? '—' : format(LABELS.Status_Heartbeat_Age, ageText(this.now - t));
  }
  get staleHelp() {
    const t = Date.parse(this.latest?.Last_Heartbeat__c ?? '');
    return format(LABELS.Status_Stale_Help, Number.isNaN(t) ? ageText(STALE_AFTER_MS) : ageText(this.now - t));
  }
  get instanceName() {
    const r = this.latest;
    return r ? [r.Name, r.Version__c].filter(Boolean).join(' · ') : '';
  }
  get counters() {
    const r = this.latest ?? {};
    return [
      { key: 'accepted', label: LABELS.Status_Accepted_Today, value: r.Events_Accepted_Today__c ?? 0 },
      { key: 'synced', label: LABELS.Status_Synced_Today, value: r.Events_Synced_Today__c ?? 0 },
      { key: 'failed', label: LABELS.Status_Failed_Today, value: r.Events_Failed_Today__c ?? 0 },
      { key: 'queue', label: LABELS.Status_Queue, value: r.Queue_Depth__c ?? 0 },
    ];
  }
  get apiUsage() {
    const used = Number(this.latest?.Api_Usage_Used__c ?? 0);
    const max = Number(this.latest?.Api_Usage_Max__c ?? 0);
    return {
      text: format(LABELS.Status_Api_Usage_Value, used.toLocaleString(), max.toLocaleString()),
      percent: max > 0 ? Math.min(100, Math.round((used / max) * 100)) : 0,
    };
  }
  get lastError() {
    return this.latest?.Last_Error__c || LABELS.Status_No_Error;
  }
  get lastErrorAt() {
    return this.latest?.Last_Error_At__c ?? null;
  }
}
