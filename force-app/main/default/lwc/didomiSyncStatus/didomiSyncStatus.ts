// Health at a glance: the freshest heartbeat the middleware wrote to Didomi_Sync_Status__c, today's
// counters, API usage and the last error. Red when the heartbeat is stale.
import { LightningElement, wire } from 'lwc';
import { gql, graphql } from 'lightning/graphql';
import { LABELS, format } from 'c/didomiSyncLabels';
import { ageText, isStale, listResult, nodes, STALE_AFTER_MS } from 'c/didomiSyncRules';

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
                  Oldest_Pending_Seconds__c {
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
    const list = listResult(result, 'Didomi_Sync_Status__c');
    if (!list) return;
    if (list.connection) this.rows = nodes(list.connection);
    this.error = list.error;
    this.loaded = true;
  }

  openDeadLetters: number | null = null;
  deadLettersResult?: GraphQLResult;

  // Open dead letters: one count, from the GraphQL API's aggregate (API v58.0+).
  @wire(graphql, {
    query: gql`
      query didomiOpenDeadLetters {
        uiapi {
          aggregate {
            Didomi_Sync_Error__c(where: { Status__c: { eq: "Open" } }) {
              edges {
                node {
                  aggregate {
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
  })
  wiredDeadLetters(result: GraphQLResult) {
    this.deadLettersResult = result;
    const edges = result.data?.uiapi?.aggregate?.Didomi_Sync_Error__c?.edges;
    if (edges) this.openDeadLetters = Number(edges[0]?.node?.aggregate?.Id?.count?.value ?? 0);
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
    await Promise.all([this.result?.refresh?.(), this.deadLettersResult?.refresh?.()]);
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
  get hasDeadLetterCount() {
    return this.openDeadLetters !== null;
  }
  get deadLettersText() {
    return format(LABELS.Status_Open_Dead_Letters, (this.openDeadLetters ?? 0).toLocaleString());
  }
  get deadLettersClass() {
    return this.openDeadLetters ? 'slds-text-color_error' : 'slds-text-color_success';
  }
  /** How long the oldest event has waited, as of the heartbeat. */
  get oldestPending() {
    const s = Number(this.latest?.Oldest_Pending_Seconds__c ?? 0);
    return s > 0 ? ageText(s * 1000) : LABELS.Status_Nothing_Pending;
  }
  /** A stale heartbeat's counters are old news: say when they were true. */
  get countsAsOf() {
    return this.stale ? this.latest?.Last_Heartbeat__c : null;
  }
  handleOpenQueue() {
    this.dispatchEvent(new CustomEvent('openqueue', { bubbles: true, composed: true }));
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
