// The Pub/Sub client's errors and event shapes, apart from the client (pubsub-client.ts) so that the change
// event subscriber's code can be loaded without gRPC, protobufjs and avsc (about 12 MB of memory, issue 17):
// service.ts imports the client only when REVERSE_MODE=cdc needs it.
import type * as grpc from '@grpc/grpc-js';

/** grpc.status.PERMISSION_DENIED (fixed by the gRPC status code specification), without loading grpc-js for it. */
const PERMISSION_DENIED = 7;

export const REPLAY_ID_CORRUPTED = 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted';

export interface ChangeEvent {
  replayId: Buffer;
  entityName: string;
  recordIds: string[];
  changeType: string;
  commitUser: string;
  commitTimestamp: number;
  /** Names of the changed top-level fields, expanded from the bitmap. */
  changedFields: string[];
  /** The event's field values (unchanged fields are null). */
  values: Record<string, unknown>;
}

export class PubSubError extends Error {
  override name = 'PubSubError';
  readonly code: grpc.status;
  readonly errorCode: string;
  constructor(code: grpc.status, errorCode: string, message: string) {
    super(message);
    this.code = code;
    this.errorCode = errorCode;
  }
}

/** Field names whose bits are set in a changedFields/nulledFields bitmap (only the first, top-level element is read). */
export function fieldsOfBitmap(bitmap: string[], fieldNames: string[]): string[] {
  const top = bitmap.find((b) => b.startsWith('0x'));
  if (!top) return [];
  const v = BigInt(top);
  return fieldNames.filter((_, i) => (v >> BigInt(i)) & 1n);
}

export interface Subscription {
  /** Asks for n more events (flow control). */
  request(n: number): void;
  close(): void;
  /** Settles when the stream ends: rejects with PubSubError on a server error. */
  done: Promise<void>;
}

/** The user lacks the permission to receive the topic's change events (View All Records on the object; CDC Developer Guide,
 *  "Required Permissions for Change Event Subscribers"). */
export const isPermissionDenied = (e: unknown): e is PubSubError => e instanceof PubSubError && e.code === PERMISSION_DENIED;
