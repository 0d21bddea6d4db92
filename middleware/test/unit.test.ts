// Pure logic: merge, projection, SOQL building, retry schedule, error classification, schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { merge, isDeleted } from '../src/sync/consent-state.ts';
import { factsOf } from '../src/didomi/facts.ts';
import { project, fieldTypeAllowed } from '../src/sync/project.ts';
import { soqlString, inChunks, soqlIdent } from '../src/salesforce/soql.ts';
import { retryDelayMs } from '../src/sync/retry.ts';
import { collectionsByType } from '../src/sync/collections.ts';
import { buildConfig } from '../src/sync/config-loader.ts';
import { classifyCode } from '../src/salesforce/errors.ts';
import { parseWebhook, toNewEvent, WebhookValidationError, plainlyValid, DidomiWebhookSchema } from '../src/didomi/schema.ts';
import { canonicalJson } from '../src/didomi/dedupe-key.ts';
import { storableProblem, MAX_JSON_DEPTH } from '../src/didomi/storable.ts';
import { mapping, stored, target } from './support/sync-config.ts';
import { eventCreated, eventUpdated, userUpdated, userDeleted, PURPOSE, PREFERENCE } from '../../test/support/didomi-events.ts';
import { isDeepStrictEqual } from 'node:util';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);

test('merge: any permutation of events, with duplicates, converges to the same state (DESIGN.md "Merge")', () => {
  const events = [
    stored(eventCreated('a@x.com', at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v1'] } })),
    stored(eventCreated('a@x.com', at(2), { purposes: { [PURPOSE]: false } })),
    stored(userUpdated('a@x.com', at(3), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v2', 'v3'] } })),
    stored(eventCreated('a@x.com', at(3), { purposes: { other: true } }, { regulation: 'cpra' })),
    stored(eventCreated('a@x.com', at(4), { preferences: { [PREFERENCE]: [] } })),
  ];
  const reference = merge(null, events.flatMap(factsOf));
  fc.assert(
    fc.property(fc.shuffledSubarray([...events, ...events], { minLength: 10, maxLength: 10 }), fc.integer({ min: 1, max: 9 }), (perm, split) => {
      // folded in two batches, as two claims would
      const s = merge(merge(null, perm.slice(0, split).flatMap(factsOf)), perm.slice(split).flatMap(factsOf));
      assert.deepEqual(s, reference);
    }),
    { numRuns: 300 },
  );
  assert.equal(reference.facts[`purpose:gdpr:${PURPOSE}`].v, true);
  assert.deepEqual(reference.facts[`pref:gdpr:${PURPOSE}:${PREFERENCE}`].v, []);
  assert.equal(reference.facts['purpose:cpra:other'].v, true);
});

test('merge: deletions, ties, pending events and corrections: every permutation converges, a deletion wins a tie, only confirmed choices grant', () => {
  // Few timestamps, so ties between events, versions and deletions are the rule, not the exception.
  const spec = fc.record({
    kind: fc.constantFrom('created', 'updated', 'user', 'deleted'),
    t: fc.integer({ min: 1, max: 3 }),
    later: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    pending: fc.boolean(),
    enabled: fc.option(fc.boolean(), { nil: null }),
    values: fc.option(fc.subarray(['v1', 'v2', 'v3']), { nil: undefined }),
    id: fc.constantFrom('e1', 'e2'),
    version: fc.integer({ min: 1, max: 3 }),
  });
  type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;
  const body = (x: Spec) => {
    const c = { purposes: { [PURPOSE]: x.enabled }, ...(x.values ? { preferences: { [PREFERENCE]: x.values } } : {}) };
    const status = x.pending ? ('pending_approval' as const) : ('confirmed' as const);
    const updatedAt = x.later === undefined ? undefined : at(x.t + x.later);
    if (x.kind === 'created') return eventCreated('p@x.com', at(x.t), c, { id: x.id, status });
    if (x.kind === 'updated') return eventUpdated('p@x.com', at(x.t), c, { id: x.id, status, updatedAt });
    if (x.kind === 'user') return userUpdated('p@x.com', at(x.t), c, x.version);
    return userDeleted('p@x.com', at(x.t));
  };
  const M = target([mapping({ field: 'Consent__c' }), mapping({ field: 'V1__c', kind: 'Preference Value', preferenceId: PREFERENCE, valueId: 'v1' })]);
  fc.assert(
    fc.property(
      fc.array(spec, { minLength: 2, maxLength: 6 }).chain((specs) => {
        const events = specs.map((x) => stored(body(x)));
        return fc.tuple(
          fc.constant(events),
          fc.shuffledSubarray([...events, ...events], { minLength: events.length * 2, maxLength: events.length * 2 }),
          fc.integer({ min: 0, max: events.length * 2 }),
        );
      }),
      ([events, perm, split]) => {
        const reference = merge(null, events.flatMap(factsOf));
        // any order, duplicates, folded in two batches as two claims would
        const s = merge(merge(null, perm.slice(0, split).flatMap(factsOf)), perm.slice(split).flatMap(factsOf));
        assert.deepEqual(s, reference);
        // a deletion wins a tie: when the newest Didomi time belongs to a deletion, the person is deleted
        const newest = events.reduce((m, e) => (e.occurredAt > m ? e.occurredAt : m), '');
        const lastDeletion = events.filter((e) => e.type === 'user.deleted').reduce((m, e) => (e.occurredAt > m ? e.occurredAt : m), '');
        if (lastDeletion && lastDeletion === newest) assert.equal(isDeleted(reference), true, 'deletion at the newest time');
        // only a confirmed choice made after the last deletion grants (pending grants wait, erased grants are gone)
        const v = project('p@x.com', reference, M);
        const grantedAfterDeletion = (has: (e: any) => boolean) =>
          events.some((e) => {
            const ent = (e.payload as any).parameters.new_entity ?? (e.payload as any).parameters.entity;
            return e.type !== 'user.deleted' && ent.status !== 'pending_approval' && e.occurredAt > lastDeletion && has(ent);
          });
        const purposeOf = (ent: any) => ent.consents?.purposes?.find((p: any) => p.id === PURPOSE);
        if (v?.Consent__c === true)
          assert.ok(
            grantedAfterDeletion((ent) => purposeOf(ent)?.enabled === true),
            'purpose granted only by a confirmed choice',
          );
        if (v?.V1__c === true)
          assert.ok(
            grantedAfterDeletion((ent) => /v1/.test(purposeOf(ent)?.values?.[PREFERENCE]?.value ?? '')),
            'value granted only by a confirmed choice',
          );
      },
    ),
    { numRuns: 500 },
  );
});

test('merge: enabled null is no explicit choice and does not overwrite (reference/didomi.md)', () => {
  const s = merge(null, [
    ...factsOf(stored(eventCreated('b@x.com', at(1), { purposes: { [PURPOSE]: true } }))),
    ...factsOf(stored(eventCreated('b@x.com', at(2), { purposes: { [PURPOSE]: null } }))),
  ]);
  assert.equal(s.facts[`purpose:gdpr:${PURPOSE}`].v, true);
});

test('merge: user.deleted wins only while it is the newest fact', () => {
  const created = stored(eventCreated('c@x.com', at(1), { purposes: { [PURPOSE]: true } }));
  const deleted = stored(userDeleted('c@x.com', at(2)));
  assert.equal(isDeleted(merge(null, [created, deleted].flatMap(factsOf))), true);
  const again = stored(eventCreated('c@x.com', at(3), { purposes: { [PURPOSE]: true } }));
  assert.equal(isDeleted(merge(null, [again, created, deleted].flatMap(factsOf))), false);
});

test("project: Didomi's rules, invert, labels, multi-select and the regulation filter", () => {
  const s = merge(null, [
    ...factsOf(stored(eventCreated('d@x.com', at(1), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v2', 'v1'] } }))),
    ...factsOf(stored(eventCreated('d@x.com', at(2), { purposes: { [PURPOSE]: false } }, { regulation: 'cpra' }))),
  ]);
  const v = project(
    'd@x.com',
    s,
    target([
      mapping({ field: 'Consent__c' }),
      mapping({ field: 'HasOptedOutOfEmail', invert: true }),
      mapping({ field: 'Cpra__c', regulation: 'cpra' }),
      mapping({ field: 'Any__c', regulation: 'any' }),
      mapping({ field: 'Topics__c', kind: 'Preference', preferenceId: PREFERENCE, fieldType: 'multipicklist', valueLabels: { v1: 'One', v2: 'Two' } }),
      mapping({ field: 'Topics_Text__c', kind: 'Preference', preferenceId: PREFERENCE, fieldType: 'string' }),
      mapping({ field: 'V1__c', kind: 'Preference Value', preferenceId: PREFERENCE, valueId: 'v1' }),
      mapping({ field: 'V9__c', kind: 'Preference Value', preferenceId: PREFERENCE, valueId: 'v9' }),
      mapping({ field: 'Country__c', kind: 'User Attribute', attributePath: 'country', fieldType: 'string' }),
    ]),
  )!;
  assert.equal(v.Consent__c, true);
  assert.equal(v.HasOptedOutOfEmail, false);
  assert.equal(v.Cpra__c, false, 'the CPRA event writes only the CPRA-mapped field');
  assert.equal(v.Any__c, false, 'regulation "any" takes the newest of all');
  assert.equal(v.Topics__c, 'One;Two');
  assert.equal(v.Topics_Text__c, 'v1, v2');
  assert.equal(v.V1__c, true);
  assert.equal(v.V9__c, false);
  assert.equal(v.Country__c, 'FR');
  assert.equal(v.Didomi_User_Id__c, 'd@x.com');
  assert.equal(v.Didomi_Consent_Updated_At__c, at(2).toISOString());
  assert.equal(JSON.parse(String(v.Didomi_Consents__c)).purposes.gdpr[PURPOSE], true);
});

test('fieldTypeAllowed: purpose and preference value -> checkbox; preference -> text or picklist (reference/didomi.md)', () => {
  assert.ok(fieldTypeAllowed('Purpose', 'boolean'));
  assert.ok(!fieldTypeAllowed('Purpose', 'string'));
  assert.ok(fieldTypeAllowed('Preference', 'multipicklist'));
  assert.ok(!fieldTypeAllowed('Preference', 'boolean'));
  assert.ok(fieldTypeAllowed('Preference Value', 'boolean'));
});

test('SOQL literals escape quotes, backslashes and control characters (reference/salesforce.md)', () => {
  assert.equal(soqlString("o'hara\\x"), "'o\\'hara\\\\x'");
  assert.equal(soqlString('a\nb'), "'a\\nb'");
  assert.equal(soqlString("' OR Name != '"), "'\\' OR Name != \\''");
  assert.throws(() => soqlIdent('Email OR 1=1'));
  fc.assert(
    fc.property(fc.string(), (s) => {
      const lit = soqlString(s);
      // the literal never ends early: every quote inside is escaped
      const inner = lit.slice(1, -1);
      assert.ok(!/(^|[^\\])(\\\\)*'/.test(inner));
    }),
    { numRuns: 1000 },
  );
  const chunks = inChunks(Array.from({ length: 2000 }, (_, i) => `user${i}@example.com`));
  assert.ok(chunks.length > 1);
  assert.equal(chunks.flat().length, 2000);
});

test('collectionsByType: one sObject type and at most 200 records per collection, every record once, order kept per type (10-chunk rule)', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('Lead', 'Contact', 'Account'), { maxLength: 900 }), (types) => {
      const items = types.map((type, i) => ({ type, i }));
      const cols = collectionsByType(items, (x) => x.type);
      for (const c of cols) {
        assert.ok(c.length >= 1 && c.length <= 200);
        assert.equal(new Set(c.map((x) => x.type)).size, 1, 'one chunk per collection');
      }
      const flat = cols.flat();
      assert.deepEqual(
        flat.map((x) => x.i).sort((a, b) => a - b),
        items.map((x) => x.i),
      );
      for (const t of ['Lead', 'Contact', 'Account']) {
        const seq = flat.filter((x) => x.type === t).map((x) => x.i);
        assert.deepEqual(
          seq,
          [...seq].sort((a, b) => a - b),
        );
      }
    }),
  );
});

test('buildConfig: a match field must be visible, filterable and hold text; otherwise its target is unusable and reported', () => {
  const describe = {
    fields: [
      { name: 'Email', type: 'email', filterable: true, nillable: true },
      { name: 'Notes__c', type: 'textarea', filterable: false, nillable: true },
      { name: 'Score__c', type: 'double', filterable: true, nillable: true },
    ],
  };
  const target = (id: string, object: string, match: string) => ({
    Id: id,
    Object__c: object,
    Active__c: true,
    Match_Field__c: match,
  });
  const cases: [string, RegExp | null][] = [
    ['email', null],
    ['Phone', /does not exist or the integration user cannot read it/],
    ['Notes__c', /cannot be filtered in a query/],
    ['Score__c', /of type double cannot hold a Didomi user id/],
  ];
  for (const [match, problem] of cases) {
    const cfg = buildConfig(
      [target('a0X1', 'Lead', match), target('a0X2', 'Contact', 'Email')],
      [],
      new Map([
        ['Lead', describe],
        ['Contact', describe],
      ]),
    );
    assert.deepEqual(
      cfg.targets.map((t) => t.object),
      problem ? ['Contact'] : ['Lead', 'Contact'],
      match,
    );
    if (problem) {
      assert.equal(cfg.unusable[0].target.object, 'Lead');
      assert.match(cfg.problems[0].message, problem);
      assert.equal(cfg.problems[0].mappingId, 'a0X1', 'reported against the target record');
    } else assert.equal(cfg.targets[0].matchField, 'Email', 'the describe spelling');
  }
});

test('retry schedule: at least 5 tries in the first 5 minutes, then exponential and capped (DESIGN.md "Outcome")', () => {
  let elapsed = 0;
  let tries = 1;
  for (let f = 1; elapsed + retryDelayMs(f, 1, () => 0.5) <= 300_000; f++) {
    elapsed += retryDelayMs(f, 1, () => 0.5);
    tries++;
  }
  assert.ok(tries >= 6, `tries in 5 minutes: ${tries}`);
  assert.ok(retryDelayMs(8, 1, () => 0.5) > retryDelayMs(7, 1, () => 0.5));
  assert.equal(
    retryDelayMs(100, 1, () => 0.5),
    6 * 3600_000,
  );
  assert.equal(
    retryDelayMs(1, 0.01, () => 0.5),
    50,
  );
});

test('error classification follows the reference table', () => {
  for (const c of ['UNABLE_TO_LOCK_ROW', 'REQUEST_LIMIT_EXCEEDED', 'SERVER_UNAVAILABLE', 'INVALID_SESSION_ID']) assert.equal(classifyCode(c), 'transient', c);
  for (const c of [
    'REQUIRED_FIELD_MISSING',
    'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    'STRING_TOO_LONG',
    'INVALID_FIELD',
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    'DUPLICATES_DETECTED',
  ])
    assert.equal(classifyCode(c), 'permanent', c);
});

test('webhook schema: six types, unknown fields tolerated, v1 preferences tree, errors name the path', () => {
  const ev = eventCreated('e@x.com', at(1), { purposes: { [PURPOSE]: true } }) as any;
  ev.parameters.entity.some_new_field = { nested: true };
  assert.equal(parseWebhook(ev).type, 'event.created');
  const legacy = eventCreated('e@x.com', at(1), {}) as any;
  legacy.parameters.entity.consents.purposes = [{ id: PURPOSE, enabled: true, preferences: [{ id: PREFERENCE, value: 'a,b' }] }];
  const f = factsOf({ ...toNewEvent(parseWebhook(legacy)), seq: 1, receivedAt: '' });
  assert.deepEqual(f.find((x) => x.key === `pref:gdpr:${PURPOSE}:${PREFERENCE}`)?.value, ['a', 'b']);
  assert.throws(
    () => parseWebhook({ type: 'event.created', parameters: { entity: { id: 'x', created_at: 'yesterday', user: {} } } }),
    (e: unknown) => e instanceof WebhookValidationError && /created_at/.test(e.message),
  );
  assert.throws(() => parseWebhook({ type: 'consent.given', parameters: {} }), WebhookValidationError);
  assert.throws(() => parseWebhook({ type: 'user.updated', params: {} }), WebhookValidationError);
  // identical redeliveries share a key; a different event does not
  assert.equal(toNewEvent(parseWebhook(ev)).dedupeKey, toNewEvent(parseWebhook(JSON.parse(JSON.stringify(ev)))).dedupeKey);
  assert.notEqual(toNewEvent(parseWebhook(ev)).dedupeKey, toNewEvent(parseWebhook(eventCreated('e@x.com', at(2), {}))).dedupeKey);
});

test('npm start runs the compiled service (start.js, dist/) with the V8 heap limits the benchmark measured (bin/node-flags.ts)', async () => {
  const { NODE_FLAGS } = await import('../src/bin/node-flags.ts');
  const { readFileSync } = await import('node:fs');
  const start: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts.start;
  assert.equal(start, `node ${NODE_FLAGS.join(' ')} start.js serve`);
  // The flags must be ones this Node accepts, or the process would not start. Started for real:
  // --liftoff-only is a V8 flag Node takes on the command line but not in NODE_OPTIONS.
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [...NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
  assert.deepEqual([r.status, r.stderr], [0, '']);
});

// The canonical JSON the de-duplication key hashed before issue 17 made it faster: keys already in
// stores must keep matching redeliveries, so the output must not change by one byte.
function canonicalBefore(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalBefore).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalBefore((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

test('de-duplication key: the same canonical JSON as before for any JSON value, whatever its key order, and the same key for a pinned webhook', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      assert.equal(canonicalJson(v), canonicalBefore(v));
      const reversed = JSON.parse(JSON.stringify(v), (_k, x) =>
        x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x,
      );
      assert.equal(canonicalJson(reversed), canonicalJson(v));
    }),
    { numRuns: 500 },
  );
  const body = {
    type: 'event.created',
    parameters: {
      entity: {
        id: 'ev-1',
        created_at: '2025-01-02T03:04:05.000Z',
        status: 'confirmed',
        user: { organization_user_id: 'Jane@Example.com', id: 'u-1' },
        consents: {
          purposes: [
            { id: 'marketing', enabled: true, values: { freq: { value: 'weekly' } } },
            { id: 'b', enabled: null },
          ],
          channels: [1, 'x', null, [true, { z: 1, a: [] }]],
        },
        extra: { é: 'ü', '\u2028': 1.5e300, Z: -0 },
      },
    },
  };
  // computed by the implementation before issue 17 (commit 2c2bb0b)
  assert.equal(toNewEvent(parseWebhook(body)).dedupeKey, 'b5247aef0e96ae1a48f743638acd4431a9c8d25300d3e9428e7dbb8f1002c243');
});

/** storableProblem as it was before its fast path (issue 17): the reference the fast path must agree with. */
function storableBefore(value: unknown, maxDepth: number) {
  const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const text = (s: string) =>
    s.includes('\u0000')
      ? 'contains U+0000 (NUL), which the store cannot hold'
      : LONE.test(s)
        ? 'contains an unpaired UTF-16 surrogate, which the store cannot hold'
        : null;
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  const at = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      const p = text(v);
      if (p) return { path, message: p };
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: at(path, String(i)) }));
    else
      for (const [k, x] of Object.entries(v)) {
        const p = text(k);
        if (p) return { path: at(path, JSON.stringify(k.replace(/\u0000/g, '\\u0000')).slice(1, -1)), message: `a key ${p}` };
        stack.push({ v: x, depth: depth + 1, path: at(path, k) });
      }
  }
  return null;
}

test('storableProblem: the same answer as before its fast path, for any JSON value with NULs, lone and paired surrogates, at any depth', () => {
  const unit = fc.constantFrom('a', 'é', '\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', '\u2028');
  fc.assert(
    fc.property(fc.jsonValue({ stringUnit: unit, maxDepth: 5 }), fc.integer({ min: 0, max: 6 }), (v, depth) => {
      assert.deepEqual(storableProblem(v, depth), storableBefore(v, depth));
      assert.deepEqual(storableProblem(v), storableBefore(v, MAX_JSON_DEPTH));
    }),
    { numRuns: 2000 },
  );
  const nest = (n: number, leaf: unknown): unknown => (n ? { a: [nest(n - 1, leaf)] } : leaf);
  for (const n of [31, 32, 33, 5000])
    for (const leaf of ['ok', 'bad\u0000', { ['k\ud800']: 1 }]) {
      const v = nest(n, leaf);
      assert.deepEqual(storableProblem(v), storableBefore(v, MAX_JSON_DEPTH), `${n} levels, ${JSON.stringify(leaf)}`);
    }
});

test('webhook schema fast path: whatever it accepts, Zod accepts with an output equal to the body; honest webhooks take it', () => {
  const legacy = eventCreated('l@x.com', at(1), {}) as any;
  legacy.parameters.entity.consents.purposes = [{ id: PURPOSE, enabled: true, preferences: [{ id: PREFERENCE, value: 'a,b', values: ['a'] }] }];
  const bases = [
    eventCreated('e@x.com', at(1), { purposes: { [PURPOSE]: true, b: null }, preferences: { [PREFERENCE]: ['v1', 'v2'] } }),
    eventCreated('n@x.com', at(1), { purposes: { [PURPOSE]: false } }, { organizationUserId: null, updatedAt: at(2) }),
    eventUpdated('u@x.com', at(1), { purposes: { [PURPOSE]: true } }, { id: 'ev-1', old: { purposes: { [PURPOSE]: false } } }),
    { type: 'event.deleted', parameters: eventCreated('d@x.com', at(1), {}).parameters },
    userUpdated('v@x.com', at(3), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: ['v3'] } }, 4),
    { type: 'user.created', parameters: { entity: userUpdated('c@x.com', at(3), {}).parameters.new_entity } },
    userDeleted('x@x.com', at(4)),
    legacy,
  ].map((b) => JSON.parse(JSON.stringify(b)) as unknown);
  for (const b of bases) assert.ok(plainlyValid(b), JSON.stringify(b));
  // Every path of a body, so a mutation can land anywhere in it.
  const pathsOf = (v: unknown, path: (string | number)[] = []): (string | number)[][] =>
    v && typeof v === 'object' ? [path, ...Object.entries(v).flatMap(([k, x]) => pathsOf(x, [...path, Array.isArray(v) ? Number(k) : k]))] : [path];
  const odd = fc.oneof(
    fc.constantFrom(null, '', 'x'.repeat(256), 'x'.repeat(4001), 'yesterday', -1, 1.5, 2 ** 60, true, [], {}, 'event.created', 'user.deleted'),
    fc.constant(Array.from({ length: 501 }, () => 'a')),
    fc.constant({ ['k'.repeat(256)]: { value: 'v' } }),
    fc.constant(JSON.parse('{"__proto__":{"id":"p"},"value":"v"}') as unknown),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const agrees = (b: unknown) => {
    if (!plainlyValid(b)) return;
    const r = DidomiWebhookSchema.safeParse(b);
    assert.ok(r.success, `fast path accepted what Zod refuses: ${JSON.stringify(b)} ${JSON.stringify(r.error?.issues)}`);
    assert.ok(isDeepStrictEqual(r.data, b), `Zod's output differs from the body: ${JSON.stringify(b)}`);
  };
  // Every field at every length limit, null, absent, and of another type.
  const sweep = [null, undefined, true, 0, -1, 1.5, {}, [], ...[0, 1, 40, 41, 64, 65, 255, 256, 4000, 4001].map((n) => 'x'.repeat(n))];
  for (const base of bases)
    for (const path of pathsOf(base).filter((p) => p.length))
      for (const value of sweep) {
        const b = structuredClone(base) as any;
        const parent = path.slice(0, -1).reduce((o: any, k) => o[k], b);
        if (value === undefined) delete parent[path[path.length - 1]];
        else parent[path[path.length - 1]] = value;
        agrees(b);
      }
  const mutation = fc.record({ pick: fc.nat(), action: fc.constantFrom('set', 'delete', 'proto'), value: odd });
  fc.assert(
    fc.property(fc.constantFrom(...bases), fc.array(mutation, { minLength: 1, maxLength: 3 }), (base, mutations) => {
      const b = structuredClone(base);
      for (const m of mutations) {
        const paths = pathsOf(b);
        const path = paths[m.pick % paths.length];
        if (!path.length) continue;
        const parent = path.slice(0, -1).reduce((o: any, k) => o[k], b) as any;
        const key = path[path.length - 1];
        if (m.action === 'set') parent[key] = structuredClone(m.value);
        else if (m.action === 'delete' && !Array.isArray(parent)) delete parent[key];
        else if (m.action === 'proto' && parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key]))
          Object.defineProperty(parent[key], '__proto__', { value: structuredClone(m.value), enumerable: true, configurable: true, writable: true });
      }
      agrees(b);
    }),
    { numRuns: 5000 },
  );
});
