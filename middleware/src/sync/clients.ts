// What the engine needs from the outside world, built in service.ts and passed in, so the loop and
// the planner can be tested without HTTP (and a test can hand in a fake).
import type { CompositeSubrequest, CompositeSubresponse, QueryResult, SObjectRow } from '../salesforce/client.ts';
import type { BudgetSnapshot } from '../salesforce/budget.ts';
import type { DidomiApi } from '../didomi/api-client.ts';
import type { PubSubClient } from '../salesforce/pubsub-client.ts';

/** The Salesforce REST calls the sync makes (salesforce/client.ts implements it). */
export interface SalesforceApi {
  readonly base: string;
  /** API calls made so far (for the batch log). */
  readonly calls: number;
  request<B = unknown>(method: string, path: string, body?: unknown, resource?: string): Promise<{ status: number; body: B }>;
  query<T = SObjectRow>(soql: string): Promise<T[]>;
  allPages<T>(first: QueryResult<T>): Promise<T[]>;
  composite(subrequests: CompositeSubrequest[]): Promise<CompositeSubresponse[]>;
  userId(): Promise<string | null>;
}

export interface SyncClients {
  salesforce: SalesforceApi;
  /** The API budget (salesforce/budget.ts): the worker loop checks it before claiming a batch. */
  budget: { snapshot(): BudgetSnapshot; delayMs(calls?: number): number };
  /** Resolves when a Salesforce session can be had (readyz). */
  checkSession(): Promise<void>;
  /** Salesforce -> Didomi (sync/reverse.ts) runs only when the Didomi API is configured. */
  didomi: DidomiApi | null;
  /** Change events (Pub/Sub API) for Salesforce -> Didomi with REVERSE_MODE=cdc; null otherwise. */
  pubsub: PubSubClient | null;
}
