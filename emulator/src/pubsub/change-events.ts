// The org's change event bus (Change Data Capture): every committed record write of a selected
// object becomes a change event on /data/<Object>ChangeEvent, Avro-encoded on the schema shape
// Salesforce documents, kept for the 72 h retention window and addressable by replay id.
// Sources: Change Data Capture Developer Guide, "Change Event Message Structure" and
// "ChangeEventHeader Fields"; Pub/Sub API guide, "Event Message Durability" (72 h retention, opaque
// replay ids) and "Event Deserialization Considerations" (changedFields/nulledFields are bitmaps
// of schema field positions, hex strings; unchanged fields are null).
import { createHash, randomBytes } from 'node:crypto';
import avro from 'avsc';
import type { Org, RecordChange } from '../org.ts';
import type { FieldDef, ObjectDef } from '../schema.ts';

export const RETENTION_MS = 72 * 3600_000;
/** Memory bound for long benchmark runs: beyond it the oldest events go first, as if past retention (not a Salesforce limit). */
export const MAX_EVENTS = 200_000;
/** Fields a change event does not carry (the record id travels in recordIds). */
const NOT_IN_EVENTS = new Set(['id', 'isdeleted', 'systemmodstamp']);

export interface BusEvent {
  replayId: bigint;
  topic: string;
  schemaId: string;
  at: number;
  change: RecordChange;
  transactionKey: string;
  sequence: number;
  commitNumber: number;
}

interface TopicSchema {
  topic: string;
  /** The object whose changes the topic carries. */
  entity: string;
  schemaId: string;
  json: string;
  type: avro.Type;
  fields: string[]; // top-level Avro field names, in position order
}

const avroType = (fd: FieldDef): string => {
  if (fd.type === 'boolean') return 'boolean';
  if (fd.type === 'double') return 'double';
  if (fd.type === 'int') return 'int';
  if (fd.type === 'datetime' || fd.type === 'date') return 'long'; // Pub/Sub API: date fields in epoch time
  return 'string';
};

function eventSchema(def: ObjectDef) {
  const fields = [...def.fields.values()].filter((fd) => !NOT_IN_EVENTS.has(fd.name.toLowerCase()));
  return {
    type: 'record',
    name: `${def.name}ChangeEvent`,
    namespace: 'com.sforce.eventbus',
    fields: [
      {
        name: 'ChangeEventHeader',
        type: {
          type: 'record',
          name: 'ChangeEventHeader',
          fields: [
            { name: 'entityName', type: 'string' },
            { name: 'recordIds', type: { type: 'array', items: 'string' } },
            {
              name: 'changeType',
              type: {
                type: 'enum',
                name: 'ChangeType',
                symbols: ['CREATE', 'UPDATE', 'DELETE', 'UNDELETE', 'GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_OVERFLOW', 'SNAPSHOT'],
              },
            },
            { name: 'changeOrigin', type: 'string' },
            { name: 'transactionKey', type: 'string' },
            { name: 'sequenceNumber', type: 'int' },
            { name: 'commitTimestamp', type: 'long' },
            { name: 'commitNumber', type: 'long' },
            { name: 'commitUser', type: 'string' },
            { name: 'nulledFields', type: { type: 'array', items: 'string' } },
            { name: 'diffFields', type: { type: 'array', items: 'string' } },
            { name: 'changedFields', type: { type: 'array', items: 'string' } },
          ],
        },
      },
      ...fields.map((fd) => ({ name: fd.name, type: ['null', avroType(fd)], default: null })),
    ],
  };
}

/** A bitmap of schema field positions as Salesforce encodes it: bit i set = field i, as a "0x…" hex string. */
export function bitmap(positions: number[]): string[] {
  if (!positions.length) return [];
  let v = 0n;
  for (const p of positions) v |= 1n << BigInt(p);
  const hex = v.toString(16).toUpperCase();
  return ['0x' + (hex.length % 2 ? '0' + hex : hex)];
}

const toAvro = (fd: FieldDef | undefined, v: unknown): unknown => {
  if (v === null || v === undefined || !fd) return null;
  if (fd.type === 'datetime' || fd.type === 'date') return Date.parse(String(v).replace(/\+0000$/, 'Z'));
  if (fd.type === 'boolean') return Boolean(v);
  if (fd.type === 'double') return Number(v);
  if (fd.type === 'int') return Math.trunc(Number(v));
  return String(v);
};

export class ChangeEventBus {
  readonly topics = new Map<string, TopicSchema>();
  private readonly byId = new Map<string, TopicSchema>();
  private events: BusEvent[] = [];
  private next = 1n;
  /** Highest replay id dropped by retention (0 = none yet). */
  private purgedThrough = 0n;
  private commitNumber = 0;
  private readonly listeners = new Set<() => void>();
  private readonly org: Org;

  constructor(org: Org, entities: string[]) {
    this.org = org;
    for (const name of entities) {
      const def = org.object(name);
      const schema = eventSchema(def);
      const json = JSON.stringify(schema);
      const schemaId = createHash('sha256').update(json).digest('base64url').slice(0, 22);
      const t: TopicSchema = {
        topic: `/data/${def.name}ChangeEvent`,
        entity: def.name,
        schemaId,
        json,
        type: avro.Type.forSchema(schema as avro.Schema),
        fields: schema.fields.map((f) => f.name),
      };
      this.topics.set(t.topic.toLowerCase(), t);
      this.byId.set(schemaId, t);
    }
    org.changeListeners.push((changes) => this.publish(changes));
  }

  schema(schemaId: string): TopicSchema | undefined {
    return this.byId.get(schemaId);
  }

  topic(name: string): TopicSchema | undefined {
    return this.topics.get(String(name).toLowerCase());
  }

  /** Called on each new event; returns an unsubscribe function. */
  onEvent(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private publish(changes: RecordChange[]) {
    const transactionKey = randomBytes(16).toString('hex');
    let sequence = 0;
    for (const c of changes) {
      const t = this.topic(`/data/${c.sobject}ChangeEvent`);
      if (!t) continue; // not selected for Change Data Capture
      const e = {
        replayId: this.next++,
        topic: t.topic,
        schemaId: t.schemaId,
        at: c.at,
        change: c,
        transactionKey,
        sequence: ++sequence,
        commitNumber: ++this.commitNumber,
      };
      this.events.push(e);
    }
    if (this.events.length > MAX_EVENTS * 1.1) this.purge();
    for (const f of this.listeners) f();
  }

  /** The event's Avro payload, encoded when delivered (writes stay cheap when nobody subscribes). */
  payload(e: BusEvent): Buffer {
    const t = this.topic(e.topic)!;
    const c = e.change;
    const def = this.org.object(c.sobject);
    const body: Record<string, unknown> = {};
    const changed: number[] = [];
    const nulled: number[] = [];
    t.fields.forEach((name, i) => {
      if (i === 0) return;
      if (!(name in c.changed)) return void (body[name] = null);
      const v = toAvro(def.fields.get(name.toLowerCase()), c.changed[name]);
      body[name] = v;
      changed.push(i);
      if (v === null) nulled.push(i);
    });
    body.ChangeEventHeader = {
      entityName: def.name,
      recordIds: [c.id],
      changeType: c.op === 'create' ? 'CREATE' : c.op === 'delete' ? 'DELETE' : 'UPDATE',
      changeOrigin: '',
      transactionKey: e.transactionKey,
      sequenceNumber: e.sequence,
      commitTimestamp: c.at,
      commitNumber: e.commitNumber,
      commitUser: c.commitUser ?? '',
      nulledFields: bitmap(nulled),
      diffFields: [],
      // On create Salesforce sends no changedFields; the record's values are in the body.
      changedFields: c.op === 'update' ? bitmap(changed) : [],
    };
    return t.type.toBuffer(body);
  }

  /** Drops events older than the retention window (Salesforce purges them from the bus). */
  private purge() {
    const horizon = this.org.now() - RETENTION_MS;
    let i = Math.max(0, this.events.length - MAX_EVENTS);
    while (i < this.events.length && this.events[i].at < horizon) i++;
    if (i) {
      this.purgedThrough = this.events[i - 1].replayId;
      this.events = this.events.slice(i);
    }
  }

  /** The newest replay id given out (0 when none). */
  latest(): bigint {
    return this.next - 1n;
  }

  /** Whether a CUSTOM replay id can be resumed from: one this bus gave out whose event is still retained. */
  validReplayId(id: bigint): boolean {
    this.purge();
    return id > this.purgedThrough && id <= this.latest();
  }

  /** Events of a topic after a replay id, at most `max`. */
  after(topic: string, id: bigint, max: number): BusEvent[] {
    this.purge();
    const out: BusEvent[] = [];
    let lo = 0,
      hi = this.events.length; // in replay id order: binary search the first event after `id`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid].replayId <= id) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.events.length && out.length < max; i++) if (this.events[i].topic === topic) out.push(this.events[i]);
    return out;
  }

  /** The replay id before the oldest retained event (EARLIEST starts after it). */
  earliest(): bigint {
    this.purge();
    return this.purgedThrough;
  }
}

export const replayIdBytes = (id: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(id);
  return b;
};

export const replayIdOf = (b: Uint8Array | undefined): bigint | null => (b && b.length === 8 ? Buffer.from(b).readBigUInt64BE() : null);
