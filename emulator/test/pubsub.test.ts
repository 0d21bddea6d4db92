// The Pub/Sub API stand-in, over real gRPC with the official proto: authentication headers, topic and
// schema lookup, Avro change events from the org's writes (ChangeEventHeader with commitUser and the
// changedFields bitmap), pull-based flow control, replay presets and the 72 h retention.
// Sources: Pub/Sub API guide ("Supported Authentication Methods", "Subscribe RPC Method", "Event Message
// Durability", "Event Deserialization Considerations", "Retry Long-Lived RPC Calls After an Error Occurs").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import avro from 'avsc';
import { start, client, token as login, assertion } from './support.ts';
import { PUBSUB_ERROR_CODES, type Emulator } from '../src/index.ts';
import { PROTO_PATH, ORG_ID } from '../src/pubsub/grpc-server.ts';

let emu: Emulator;
let token: string;
let stub: any;
before(async () => {
  emu = await start({ dailyApiLimit: 100_000, pubsub: { keepaliveMs: 20 } }); // frequent keepalives: proof a stream is set up
  token = (await client(emu)).token;
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true });
  const proto = grpc.loadPackageDefinition(def) as any;
  stub = new proto.eventbus.v1.PubSub(emu.pubsub!.url.replace('grpc://', ''), grpc.credentials.createInsecure());
});
after(async () => {
  stub.close();
  await emu.close();
});

const md = (o: { token?: string; instance?: string; tenant?: string } = {}) => {
  const m = new grpc.Metadata();
  m.set('accesstoken', o.token ?? token);
  m.set('instanceurl', o.instance ?? emu.url);
  m.set('tenantid', o.tenant ?? ORG_ID);
  return m;
};
const unary = (method: string, req: unknown, m = md()) =>
  new Promise<any>((res, rej) => stub[method](req, m, (e: grpc.ServiceError | null, r: unknown) => (e ? rej(e) : res(r))));
const errorCode = (e: grpc.ServiceError) => String(e.metadata.get('error-code')[0]);

/** A Subscribe stream that collects responses; `next(n)` waits for n events in all. */
function subscribe(first: Record<string, unknown>, m = md()) {
  const call = stub.Subscribe(m);
  const events: any[] = [];
  let responses = 0;
  let error: grpc.ServiceError | null = null;
  const waiters: (() => void)[] = [];
  call.on('data', (r: any) => {
    events.push(...r.events);
    responses++;
    waiters.splice(0).forEach((w) => w());
  });
  call.on('error', (e: grpc.ServiceError) => {
    error = e;
    waiters.splice(0).forEach((w) => w());
  });
  call.write(first);
  return {
    events,
    request: (n: number) => call.write({ num_requested: n }),
    /** Waits for the server's next response (a keepalive when nothing is due): what it had to send before, it sent. */
    async settled() {
      const n = responses;
      await this.until(() => responses > n);
    },
    async until(check: () => boolean) {
      while (!check() && !error) await new Promise<void>((r) => waiters.push(r));
      if (error && !check()) throw error;
    },
    get error() {
      return error;
    },
    close: () => call.cancel(),
  };
}

async function decode(e: any) {
  const schema = await unary('GetSchema', { schema_id: e.event.schema_id });
  const json = JSON.parse(schema.schema_json);
  return { value: avro.Type.forSchema(json).fromBuffer(e.event.payload) as any, fields: json.fields.map((f: any) => f.name) as string[] };
}
const bits = (bitmap: string[], fields: string[]) => fields.filter((_, i) => (BigInt(bitmap[0] ?? '0x0') >> BigInt(i)) & 1n);

test('authentication: a wrong access token, instance URL or tenant id is UNAUTHENTICATED with the auth error code', async () => {
  for (const bad of [{ token: 'nope' }, { instance: 'https://other.my.salesforce.com' }, { tenant: '00D000000000001AAA' }]) {
    await assert.rejects(unary('GetTopic', { topic_name: '/data/LeadChangeEvent' }, md(bad)), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNAUTHENTICATED);
      assert.equal(errorCode(e), PUBSUB_ERROR_CODES.auth);
      return true;
    });
  }
  const s = subscribe({ topic_name: '/data/LeadChangeEvent', num_requested: 1 }, md({ token: 'nope' }));
  await assert.rejects(
    s.until(() => false),
    (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED,
  );
});

test('GetTopic and GetSchema: change event topics with the documented ChangeEventHeader; unknown topics are not found', async () => {
  const t = await unary('GetTopic', { topic_name: '/data/LeadChangeEvent' });
  assert.deepEqual([t.topic_name, t.tenant_guid, t.can_subscribe, t.can_publish], ['/data/LeadChangeEvent', ORG_ID, true, false]);
  const s = JSON.parse((await unary('GetSchema', { schema_id: t.schema_id })).schema_json);
  assert.equal(s.fields[0].name, 'ChangeEventHeader');
  assert.deepEqual(
    s.fields[0].type.fields.map((f: any) => f.name),
    [
      'entityName',
      'recordIds',
      'changeType',
      'changeOrigin',
      'transactionKey',
      'sequenceNumber',
      'commitTimestamp',
      'commitNumber',
      'commitUser',
      'nulledFields',
      'diffFields',
      'changedFields',
    ],
  );
  await assert.rejects(unary('GetTopic', { topic_name: '/data/OpportunityChangeEvent' }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
});

test('Subscribe: each write is an Avro change event naming its changed fields and committing user, delivered only against num_requested', async () => {
  const s = subscribe({ topic_name: '/data/LeadChangeEvent', replay_preset: 'LATEST', num_requested: 2 });
  await s.settled(); // LATEST: the subscription starts where the bus is when the first request is read
  const rep = emu.org.addUser('rep@example.com', [], true, 'Standard User');
  const [id] = emu.seed({ Lead: [{ LastName: 'Flow', Company: 'Acme', Email: 'flow@example.com' }] }).Lead;
  emu.org.update(rep, 'Lead', id, { HasOptedOutOfEmail: true });
  emu.org.update(rep, 'Lead', id, { Company: 'Acme Europe' });
  await s.until(() => s.events.length >= 2);
  const created = await decode(s.events[0]);
  assert.equal(created.value.ChangeEventHeader.changeType, 'CREATE');
  const updated = await decode(s.events[1]);
  const h = updated.value.ChangeEventHeader;
  assert.deepEqual([h.entityName, h.recordIds, h.changeType, h.commitUser], ['Lead', [id], 'UPDATE', rep.id]);
  assert.match(h.changedFields[0], /^0x[0-9A-F]+$/, 'a hex bitmap, as Salesforce sends it');
  assert.deepEqual(bits(h.changedFields, updated.fields).sort(), ['HasOptedOutOfEmail', 'LastModifiedById', 'LastModifiedDate'].sort());
  assert.equal(updated.value.HasOptedOutOfEmail, true);
  assert.equal(updated.value.Email, null, 'unchanged fields are null');
  // The third event waits for credit.
  await s.settled();
  assert.equal(s.events.length, 2, 'nothing beyond num_requested');
  s.request(1);
  await s.until(() => s.events.length === 3);
  assert.equal((await decode(s.events[2])).value.Company, 'Acme Europe');
  s.close();
});

test('replay: CUSTOM resumes after a replay id; one older than the 72 h retention is refused with replayid.corrupted', async () => {
  const [id] = emu.seed({ Lead: [{ LastName: 'Replay', Company: 'Acme' }] }).Lead;
  const all = subscribe({ topic_name: '/data/LeadChangeEvent', replay_preset: 'EARLIEST', num_requested: 100 });
  await all.until(() => all.events.some((e) => e.replay_id && e.event.payload.includes(Buffer.from(id))));
  all.close();
  const mark = all.events.at(-1).replay_id;
  emu.org.update(null, 'Lead', id, { Company: 'After' });
  const resumed = subscribe({ topic_name: '/data/LeadChangeEvent', replay_preset: 'CUSTOM', replay_id: mark, num_requested: 10 });
  await resumed.until(() => resumed.events.length >= 1);
  assert.equal(resumed.events.length, 1, 'only what came after the replay id');
  assert.equal((await decode(resumed.events[0])).value.Company, 'After');
  resumed.close();

  emu.advanceClock(72 * 3600_000 + 1000);
  token = (await login(emu, assertion({ exp: Math.floor(emu.org.now() / 1000) + 120 }))).body.access_token; // the old session ended
  const stale = subscribe({ topic_name: '/data/LeadChangeEvent', replay_preset: 'CUSTOM', replay_id: mark, num_requested: 10 });
  await assert.rejects(
    stale.until(() => false),
    (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(errorCode(e), PUBSUB_ERROR_CODES.replayId);
      return true;
    },
  );
  const earliest = subscribe({ topic_name: '/data/LeadChangeEvent', replay_preset: 'EARLIEST', num_requested: 10 });
  await earliest.settled();
  assert.equal(earliest.events.length, 0, 'events older than the retention are gone');
  earliest.close();
});

test('change events need View All Records on the object (CDC Developer Guide, "Required Permissions for Change Event Subscribers"): Read alone cannot subscribe; the package permission set can', async () => {
  // https://developer.salesforce.com/docs/platform/change-data-capture/guide/cdc-security-perms.html: "View All
  // Records for the object" (or View All Data); a single-entity channel checks it when the user subscribes.
  const other = await start({
    username: 'reader@example.com',
    permissionSets: ['Lead_Reader'],
    extraPermissionSets: { Lead_Reader: { Lead: 'read' } },
    preAuthorized: { permissionSets: ['Lead_Reader'], profiles: [] },
  });
  const otherStub = new (
    grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: String, defaults: true })) as any
  ).eventbus.v1.PubSub(other.pubsub!.url.replace('grpc://', ''), grpc.credentials.createInsecure());
  try {
    const t = (await login(other, assertion({ sub: 'reader@example.com' }))).body.access_token as string;
    const m = new grpc.Metadata();
    m.set('accesstoken', t);
    m.set('instanceurl', other.url);
    m.set('tenantid', ORG_ID);
    const topic = await new Promise<any>((res, rej) =>
      otherStub.GetTopic({ topic_name: '/data/LeadChangeEvent' }, m, (e: any, r: any) => (e ? rej(e) : res(r))),
    );
    assert.equal(topic.can_subscribe, false, 'GetTopic says so');
    const call = otherStub.Subscribe(m);
    const refused = new Promise<grpc.ServiceError>((res) => call.on('error', res));
    call.on('data', () => assert.fail('no event for a user without View All Records'));
    call.write({ topic_name: '/data/LeadChangeEvent', replay_preset: 'EARLIEST', num_requested: 10 });
    const e = await refused;
    assert.equal(e.code, grpc.status.PERMISSION_DENIED);
    assert.equal(other.pubsub!.stats.subscribes, 0, 'no subscription was opened');
  } finally {
    otherStub.close();
    await other.close();
  }
  // The integration user, with the package's Didomi_Sync_Integration, may subscribe to each synced object.
  for (const name of ['Lead', 'Contact', 'Account'])
    assert.equal((await unary('GetTopic', { topic_name: `/data/${name}ChangeEvent` })).can_subscribe, true, name);
});
