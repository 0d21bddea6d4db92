// Builders for the pure tests: a webhook as the store hands it to the engine, and targets and
// mappings as config-loader.ts reads them from the org, with only what a test cares about spelled out.
import { parseWebhook, toNewEvent } from '../../src/didomi/schema.ts';
import type { StoredEvent } from '../../src/store/types.ts';
import type { Mapping, Target } from '../../src/sync/config-types.ts';
import { PURPOSE } from '../../../test/support/didomi-events.ts';

let seq = 0;
/** A webhook body as stored at `receivedAt`: parsed, with the next inbox sequence number. */
export const storedAt = (body: unknown, receivedAt: Date): StoredEvent => ({
  ...toNewEvent(parseWebhook(body)),
  seq: ++seq,
  receivedAt: receivedAt.toISOString(),
});
/** A webhook body as stored now (one argument, so `bodies.map(stored)` works). */
export const stored = (body: unknown): StoredEvent => storedAt(body, new Date());

/** A Purpose mapping of PURPOSE to the checkbox F, unless `o` says otherwise. */
export const mapping = (o: Partial<Mapping> = {}): Mapping => ({
  id: 'm',
  kind: 'Purpose',
  purposeId: PURPOSE,
  preferenceId: null,
  valueId: null,
  attributePath: null,
  field: 'F',
  fieldType: 'boolean',
  invert: false,
  valueLabels: {},
  regulation: 'gdpr',
  ...o,
});

/** A Lead target matched by Email, update only, deletions ignored, unless `o` says otherwise. */
export const target = (mappings: Mapping[], o: Partial<Target> = {}): Target => ({
  id: 't',
  object: 'Lead',
  upsertMode: false,
  matchField: 'Email',
  creationDefaults: {},
  deletionBehavior: 'Ignore',
  mappings,
  fields: new Map(),
  ...o,
});
