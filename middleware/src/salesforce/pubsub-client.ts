// A Pub/Sub API client (gRPC on the official proto, proto/pubsub_api.proto) for change events:
// authenticates with the JWT bearer session (`accesstoken`, `instanceurl`, `tenantid` headers, Pub/Sub
// API guide "Supported Authentication Methods"), pulls events with flow control (`num_requested`),
// decodes their Avro payloads with the schema from GetSchema, and expands the changedFields bitmap
// ("Event Deserialization Considerations": bit i = the field at position i of the Avro schema).
// Pub/Sub API calls are not REST API calls: they do not spend the org's daily request allowance.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import avro from 'avsc';
import type { JwtBearerAuth, Session } from './auth.ts';
import { fieldsOfBitmap, PubSubError, type ChangeEvent, type Subscription } from './pubsub-types.ts';

// What the change event subscriber needs without this client, in a module that loads no gRPC.
export { fieldsOfBitmap, isPermissionDenied, PubSubError, REPLAY_ID_CORRUPTED, type ChangeEvent, type Subscription } from './pubsub-types.ts';

const PROTO_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../proto/pubsub_api.proto');
interface Schema {
  type: avro.Type;
  fields: string[];
}

type Call = grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;

export class PubSubClient {
  private readonly stub: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  private readonly schemas = new Map<string, Promise<Schema>>();
  private readonly auth: JwtBearerAuth;

  /** url: grpcs://api.pubsub.salesforce.com:7443 (TLS) or grpc://host:port (plaintext, the emulator). */
  constructor(url: string, auth: JwtBearerAuth) {
    this.auth = auth;
    const u = new URL(url);
    const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true });
    const proto = grpc.loadPackageDefinition(def) as unknown as { eventbus: { v1: { PubSub: grpc.ServiceClientConstructor } } };
    const creds = u.protocol === 'grpc:' ? grpc.credentials.createInsecure() : grpc.credentials.createSsl();
    this.stub = new proto.eventbus.v1.PubSub(`${u.hostname}:${u.port || 7443}`, creds) as never;
  }

  private metadata(s: Session): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('accesstoken', s.accessToken);
    md.set('instanceurl', s.instanceUrl);
    md.set('tenantid', s.orgId ?? '');
    return md;
  }

  private unary<T>(method: string, req: unknown, s: Session): Promise<T> {
    return new Promise((res, rej) => this.stub[method](req, this.metadata(s), (e: grpc.ServiceError | null, r: T) => (e ? rej(toPubSubError(e)) : res(r))));
  }

  /** Runs fn with the session; an UNAUTHENTICATED answer renews it once (sessions expire). */
  private async authed<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    const s = await this.auth.get();
    try {
      return await fn(s);
    } catch (e) {
      if (!(e instanceof PubSubError) || e.code !== grpc.status.UNAUTHENTICATED) throw e;
      return fn(await this.auth.renew(s));
    }
  }

  getTopic(topic: string): Promise<{ topic_name: string; schema_id: string; can_subscribe: boolean }> {
    return this.authed((s) => this.unary('GetTopic', { topic_name: topic }, s));
  }

  private schema(id: string): Promise<Schema> {
    let p = this.schemas.get(id);
    if (!p) {
      p = this.authed((s) => this.unary<{ schema_json: string }>('GetSchema', { schema_id: id }, s)).then((r) => {
        const json = JSON.parse(r.schema_json) as { fields: { name: string }[] };
        return { type: avro.Type.forSchema(json as avro.Schema), fields: json.fields.map((f) => f.name) };
      });
      p.catch(() => this.schemas.delete(id));
      this.schemas.set(id, p);
    }
    return p;
  }

  /**
   * Subscribes to a topic from a replay position. `onEvents` is awaited for each batch; ask for more with
   * request() (pull-based: the server sends nothing beyond the credit given).
   */
  async subscribe(
    topic: string,
    from: { preset: 'LATEST' | 'EARLIEST' } | { replayId: Buffer },
    onEvents: (events: ChangeEvent[], latestReplayId: Buffer | null) => Promise<void>,
  ): Promise<Subscription> {
    const s = await this.auth.get();
    const call: Call = (this.stub.Subscribe as (md: grpc.Metadata) => Call)(this.metadata(s));
    let chain = Promise.resolve();
    let failed: Error | null = null;
    const done = new Promise<void>((res, rej) => {
      call.on('data', (r: { events: { event: { schema_id: string; payload: Buffer }; replay_id: Buffer }[]; latest_replay_id: Buffer }) => {
        chain = chain.then(async () => {
          if (failed) return;
          const events: ChangeEvent[] = [];
          for (const e of r.events) {
            let values: Record<string, unknown>;
            let fields: string[];
            try {
              const sc = await this.schema(e.event.schema_id);
              values = sc.type.fromBuffer(Buffer.from(e.event.payload)) as Record<string, unknown>;
              fields = sc.fields;
            } catch (err) {
              if (err instanceof PubSubError) throw err; // GetSchema failed: the stream restarts from the saved position
              // One payload that does not decode must not hold back every later event: it is passed on as such.
              events.push({
                replayId: Buffer.from(e.replay_id),
                entityName: '',
                recordIds: [],
                changeType: 'UNDECODABLE',
                commitUser: '',
                commitTimestamp: 0,
                changedFields: [],
                values: {},
              });
              continue;
            }
            const h = values.ChangeEventHeader as Record<string, unknown>;
            events.push({
              replayId: Buffer.from(e.replay_id),
              entityName: String(h.entityName),
              recordIds: (h.recordIds as string[]) ?? [],
              changeType: String(h.changeType),
              commitUser: String(h.commitUser ?? ''),
              commitTimestamp: Number(h.commitTimestamp),
              changedFields: fieldsOfBitmap((h.changedFields as string[]) ?? [], fields),
              values,
            });
          }
          await onEvents(events, r.latest_replay_id?.length ? Buffer.from(r.latest_replay_id) : null);
        });
        chain.catch((e) => {
          failed = e as Error;
          call.cancel();
          rej(e);
        });
      });
      // Cancelled by close(): done once the batch in hand is handled (its position saved), so a stop never cuts it short.
      call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED && !failed ? chain.then(res, res) : rej(failed ?? toPubSubError(e))));
      call.on('end', () => chain.then(res, rej));
    });
    // An expired or revoked session ends the stream: renew it, so the caller's resubscription authenticates.
    done.catch((e) => (e instanceof PubSubError && e.code === grpc.status.UNAUTHENTICATED ? this.auth.renew(s).catch(() => undefined) : undefined));
    const first = 'replayId' in from ? { replay_preset: 'CUSTOM', replay_id: from.replayId } : { replay_preset: from.preset };
    let sentFirst = false;
    return {
      request(n) {
        call.write({ ...(sentFirst ? {} : { topic_name: topic, ...first }), num_requested: n });
        sentFirst = true;
      },
      close() {
        call.cancel();
      },
      done,
    };
  }

  close() {
    this.stub.close();
  }
}

function toPubSubError(e: grpc.ServiceError): PubSubError {
  return new PubSubError(e.code, String(e.metadata?.get('error-code')[0] ?? ''), e.details || e.message);
}
