// Prometheus metrics (GET /metrics). One registry per service instance so tests can run several.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'didomi_sync_' });
  const m = {
    registry,
    eventsAccepted: new Counter({
      name: 'didomi_sync_events_accepted_total',
      help: 'Webhook events durably stored',
      labelNames: ['type'],
      registers: [registry],
    }),
    eventsDuplicate: new Counter({
      name: 'didomi_sync_events_duplicate_total',
      help: 'Redelivered webhook events acknowledged and ignored',
      registers: [registry],
    }),
    eventsRejected: new Counter({ name: 'didomi_sync_events_rejected_total', help: 'Webhook requests refused', labelNames: ['reason'], registers: [registry] }),
    reverseEvents: new Counter({
      name: 'didomi_sync_reverse_events_total',
      help: 'Refusals made in Salesforce sent to Didomi, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    reverseCatchUps: new Counter({
      name: 'didomi_sync_reverse_catchups_total',
      help: 'One-off SOQL catch-up queries run because the last processed change event was beyond the 72 h retention (or none was processed yet)',
      labelNames: ['object'],
      registers: [registry],
    }),
    reverseChangeEvents: new Counter({
      name: 'didomi_sync_reverse_change_events_total',
      help: 'Change events received from the Pub/Sub API, by what was done with them',
      labelNames: ['object', 'outcome'],
      registers: [registry],
    }),
    usersSkipped: new Counter({
      name: 'didomi_sync_users_skipped_total',
      help: 'User syncs that wrote nothing to a target by rule, by reason (no_organization_user_id: upsert mode never creates a record Salesforce cannot know)',
      labelNames: ['reason', 'object'],
      registers: [registry],
    }),
    eventsSynced: new Counter({ name: 'didomi_sync_events_synced_total', help: 'Events whose effect reached Salesforce', registers: [registry] }),
    eventsFailed: new Counter({ name: 'didomi_sync_events_failed_total', help: 'Events dead-lettered (permanent failures)', registers: [registry] }),
    retriesScheduled: new Counter({
      name: 'didomi_sync_retries_scheduled_total',
      help: 'User syncs scheduled for another attempt',
      labelNames: ['reason'],
      registers: [registry],
    }),
    configTargets: new Gauge({
      name: 'didomi_sync_config_targets',
      help: 'Active sync targets in the configuration last read from the org; 0 until one has been read (nothing is synced before)',
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'didomi_sync_queue_depth', help: 'Events not yet synced', registers: [registry] }),
    queueOldestAge: new Gauge({ name: 'didomi_sync_queue_oldest_age_seconds', help: 'Age of the oldest event not yet synced', registers: [registry] }),
    sfApiCalls: new Counter({
      name: 'didomi_sync_salesforce_api_calls_total',
      help: 'Salesforce REST calls made',
      labelNames: ['resource', 'status'],
      registers: [registry],
    }),
    sfBudgetWaits: new Counter({
      name: 'didomi_sync_salesforce_budget_waits_total',
      help: 'Times a Salesforce call was held (up to 1 s each) by the API budget or a limit pause',
      registers: [registry],
    }),
    sfApiUsed: new Gauge({ name: 'didomi_sync_salesforce_api_usage_used', help: 'Last Sforce-Limit-Info api-usage used', registers: [registry] }),
    sfApiMax: new Gauge({ name: 'didomi_sync_salesforce_api_usage_max', help: 'Last Sforce-Limit-Info api-usage max', registers: [registry] }),
    batchUsers: new Histogram({
      name: 'didomi_sync_batch_users',
      help: 'Users per sync batch',
      buckets: [1, 5, 10, 25, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
    batchEvents: new Histogram({
      name: 'didomi_sync_batch_events',
      help: 'Events per sync batch',
      buckets: [1, 5, 10, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    endToEndSeconds: new Histogram({
      name: 'didomi_sync_end_to_end_seconds',
      help: 'From webhook accepted to written in Salesforce',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
