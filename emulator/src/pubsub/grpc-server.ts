// The Pub/Sub API stand-in: a gRPC server on the official proto (middleware/proto/pubsub_api.proto, the copy the middleware ships) serving the
// org's change events. Faithful to the Pub/Sub API developer guide:
// - authentication by the `accesstoken`, `instanceurl` and `tenantid` metadata headers ("Supported
//   Authentication Methods"); anything else is UNAUTHENTICATED;
// - `Subscribe` is pull-based: events flow only against `num_requested` credit (at most 100 per
//   request, "Subscribe RPC Method"); the replay preset and id are read from the first FetchRequest only;
// - a CUSTOM replay id outside the retention window is refused with INVALID_ARGUMENT and the trailer
//   error-code `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted` ("Retry Long-Lived
//   RPC Calls After an Error Occurs");
// - with nothing to deliver, an empty FetchResponse with the latest replay id is sent as a keepalive
//   (within 270 s, proto comment on FetchResponse).
// - a user may subscribe to an object's change events only with View All Records on it (or View All Data): CDC
//   Developer Guide, "Required Permissions for Change Event Subscribers"
//   (https://developer.salesforce.com/docs/platform/change-data-capture/guide/cdc-security-perms.html). On this
//   single-entity channel it is checked when the user subscribes: GetTopic answers can_subscribe false, Subscribe
//   ends with PERMISSION_DENIED (the trailer's error-code is this emulator's: Salesforce documents the refusal, not its code).
// Pub/Sub API calls do not count against the REST API request limit.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { OAuthServer, Session } from '../oauth.ts';
import type { User } from '../org.ts';
import { ChangeEventBus, replayIdBytes, replayIdOf } from './change-events.ts';

export const PROTO_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../../middleware/proto/pubsub_api.proto');
export const ORG_ID = '00D5g000000EMULAAA';
const MAX_NUM_REQUESTED = 100;
export const ERROR_CODES = {
  auth: 'sfdc.platform.eventbus.grpc.service.auth.error',
  replayId: 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted',
  topic: 'sfdc.platform.eventbus.grpc.subscription.topic.not.found',
  permission: 'sfdc.platform.eventbus.grpc.subscription.permission.denied',
} as const;

export interface PubSubStats {
  subscribes: number;
  eventsDelivered: number;
  refused: Record<string, number>;
}

export interface PubSubServer {
  url: string;
  port: number;
  bus: ChangeEventBus;
  stats: PubSubStats;
  /** Test-only: the next n events published carry, on every delivery, a payload that does not decode (not a Salesforce behaviour). */
  corruptNext(n: number): void;
  /** Ends every open Subscribe stream with UNAVAILABLE (a server restart / network cut as a client sees it). */
  dropStreams(): number;
  /** Subscribe streams open now (a client that cancels its stream leaves this count). */
  openStreams(): number;
  close(): Promise<void>;
}

interface Opts {
  host: string;
  port?: number;
  oauth: OAuthServer;
  instanceUrl: () => string;
  bus: ChangeEventBus;
  keepaliveMs?: number;
  /** Whether the user may receive this object's change events (View All Records on it, or View All Data). */
  canSubscribe: (user: User, entity: string) => boolean;
}

function fail(code: grpc.status, errorCode: string, message: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  metadata.set('error-code', errorCode);
  const rpcId = randomUUID();
  metadata.set('rpc-id', rpcId);
  return Object.assign(new Error(`${message} rpcId: ${rpcId}`), { code, details: `${message} rpcId: ${rpcId}`, metadata });
}

export async function startPubSubServer(o: Opts): Promise<PubSubServer> {
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true });
  const proto = grpc.loadPackageDefinition(def) as unknown as { eventbus: { v1: { PubSub: grpc.ServiceClientConstructor } } };
  const stats: PubSubStats = { subscribes: 0, eventsDelivered: 0, refused: {} };
  const streams = new Set<grpc.ServerDuplexStream<unknown, unknown>>();
  let damaged = { from: 1n, to: 0n };
  const payloadOf = (e: Parameters<ChangeEventBus['payload']>[0]) =>
    e.replayId >= damaged.from && e.replayId <= damaged.to ? Buffer.from([0x02]) : o.bus.payload(e);
  const refuse = (e: grpc.ServiceError) => {
    const code = String(e.metadata?.get('error-code')[0]);
    stats.refused[code] = (stats.refused[code] ?? 0) + 1;
    return e;
  };

  const authenticate = (md: grpc.Metadata): { err: grpc.ServiceError; session?: undefined } | { err: null; session: Session } => {
    const token = String(md.get('accesstoken')[0] ?? '');
    const instance = String(md.get('instanceurl')[0] ?? '').replace(/\/$/, '');
    const tenant = String(md.get('tenantid')[0] ?? '');
    const session = token ? o.oauth.session(`Bearer ${token}`) : null;
    if (!session || instance !== o.instanceUrl() || tenant !== ORG_ID)
      return { err: refuse(fail(grpc.status.UNAUTHENTICATED, ERROR_CODES.auth, 'An authentication exception occurred.')) };
    return { err: null, session };
  };

  const server = new grpc.Server();
  server.addService(proto.eventbus.v1.PubSub.service, {
    GetTopic(call: grpc.ServerUnaryCall<{ topic_name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const { err, session } = authenticate(call.metadata);
      if (err) return cb(err);
      const t = o.bus.topic(call.request.topic_name);
      if (!t) return cb(refuse(fail(grpc.status.NOT_FOUND, ERROR_CODES.topic, `Topic ${call.request.topic_name} not found.`)));
      cb(null, {
        topic_name: t.topic,
        tenant_guid: ORG_ID,
        can_publish: false,
        can_subscribe: o.canSubscribe(session.user, t.entity),
        schema_id: t.schemaId,
        rpc_id: randomUUID(),
      });
    },
    GetSchema(call: grpc.ServerUnaryCall<{ schema_id: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const { err } = authenticate(call.metadata);
      if (err) return cb(err);
      const s = o.bus.schema(call.request.schema_id);
      if (!s) return cb(fail(grpc.status.NOT_FOUND, 'sfdc.platform.eventbus.grpc.schema.not.found', `Schema ${call.request.schema_id} not found.`));
      cb(null, { schema_json: s.json, schema_id: s.schemaId, rpc_id: randomUUID() });
    },
    Publish(_call: unknown, cb: grpc.sendUnaryData<unknown>) {
      cb(fail(grpc.status.PERMISSION_DENIED, 'sfdc.platform.eventbus.grpc.publish.denied', 'Change events cannot be published.'));
    },
    Subscribe(call: grpc.ServerDuplexStream<Record<string, unknown>, unknown>) {
      const { err, session } = authenticate(call.metadata);
      if (err) return call.emit('error', err);
      streams.add(call);
      let topic: string | null = null;
      let position = 0n;
      let credit = 0;
      let ended = false;
      const rpcId = randomUUID();
      const pump = () => {
        if (ended || !topic || credit <= 0) return;
        const events = o.bus.after(topic, position, credit);
        if (!events.length) return;
        credit -= events.length;
        position = events[events.length - 1].replayId;
        stats.eventsDelivered += events.length;
        call.write({
          events: events.map((e) => ({
            event: { id: String(e.replayId), schema_id: e.schemaId, payload: payloadOf(e), headers: [] },
            replay_id: replayIdBytes(e.replayId),
          })),
          latest_replay_id: replayIdBytes(position),
          rpc_id: rpcId,
          pending_num_requested: credit,
        });
      };
      const unsubscribe = o.bus.onEvent(pump);
      const keepalive = setInterval(() => {
        if (topic && !ended) call.write({ events: [], latest_replay_id: replayIdBytes(o.bus.latest()), rpc_id: rpcId, pending_num_requested: credit });
      }, o.keepaliveMs ?? 270_000);
      keepalive.unref();
      const end = () => {
        ended = true;
        unsubscribe();
        clearInterval(keepalive);
        streams.delete(call);
      };
      call.on('data', (req: Record<string, unknown>) => {
        if (ended) return;
        if (!topic) {
          const t = o.bus.topic(String(req.topic_name ?? ''));
          if (!t) {
            end();
            return call.emit('error', refuse(fail(grpc.status.NOT_FOUND, ERROR_CODES.topic, `Topic ${String(req.topic_name)} not found.`)));
          }
          if (!o.canSubscribe(session.user, t.entity)) {
            end();
            return call.emit(
              'error',
              refuse(fail(grpc.status.PERMISSION_DENIED, ERROR_CODES.permission, `Subscribing to ${t.topic} needs View All Records on ${t.entity}.`)),
            );
          }
          topic = t.topic;
          const preset = String(req.replay_preset ?? 'LATEST');
          if (preset === 'CUSTOM') {
            const id = replayIdOf(req.replay_id as Uint8Array);
            if (id === null || !o.bus.validReplayId(id)) {
              end();
              return call.emit('error', refuse(fail(grpc.status.INVALID_ARGUMENT, ERROR_CODES.replayId, 'The Replay ID validation failed.')));
            }
            position = id;
          } else position = preset === 'EARLIEST' ? o.bus.earliest() : o.bus.latest();
          stats.subscribes++; // a subscription is open once its topic, permission and replay position are accepted
        }
        credit += Math.max(0, Math.min(MAX_NUM_REQUESTED, Number(req.num_requested) || 0));
        pump();
      });
      call.on('end', () => {
        end();
        call.end();
      });
      call.on('cancelled', end);
      call.on('error', end);
    },
  });

  const port = await new Promise<number>((res, rej) =>
    server.bindAsync(`${o.host}:${o.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  return {
    url: `grpc://${o.host}:${port}`,
    port,
    bus: o.bus,
    stats,
    corruptNext(n) {
      damaged = { from: o.bus.latest() + 1n, to: o.bus.latest() + BigInt(n) };
    },
    openStreams: () => streams.size,
    dropStreams() {
      const n = streams.size;
      for (const s of [...streams]) s.emit('error', fail(grpc.status.UNAVAILABLE, 'sfdc.platform.eventbus.grpc.service.unavailable', 'Service unavailable.'));
      streams.clear();
      return n;
    },
    close: () =>
      new Promise<void>((res) => {
        for (const s of [...streams]) s.emit('error', fail(grpc.status.UNAVAILABLE, 'sfdc.platform.eventbus.grpc.service.unavailable', 'Service unavailable.'));
        server.tryShutdown(() => res());
        setTimeout(() => server.forceShutdown(), 1000).unref();
      }),
  };
}
