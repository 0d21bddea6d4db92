// Issue 11 item 5: hostile but well-formed webhooks are refused at the boundary with a 400 naming the
// problem (so Didomi stops retrying), on both stores, and never fail the honest webhooks that share
// their group commit. PostgreSQL's jsonb refuses U+0000 and unpaired surrogates ("unsupported
// Unicode escape sequence", PostgreSQL docs "JSON Types" 8.14); a field nested 30,000 levels deep
// overflows the stack of anything recursive (JSON.stringify).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startStack, type Stack } from '../../test/support/stack.ts';
import { eventCreated, PURPOSE } from '../../test/support/didomi-events.ts';

const at = new Date('2026-11-01T10:00:00Z');

/** Posts raw JSON text (the hostile parts are written as JSON escapes, as an attacker would). */
async function postRaw(s: Stack, token: string, text: string) {
  const r = await fetch(`${s.url}/webhooks/didomi`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: text,
  });
  return { status: r.status, body: (await r.json().catch(() => null)) as any };
}

const honest = (i: number, tag: string) => JSON.stringify(eventCreated(`honest-${tag}-${i}@example.com`, at, { purposes: { [PURPOSE]: false } }));
function hostile(): [string, string, RegExp][] {
  const base = eventCreated('hostile@example.com', at, { purposes: { [PURPOSE]: true } }) as any;
  const withMeta = (meta: string) => JSON.stringify(base).replace('"metadata":{}', `"metadata":${meta}`);
  const deep = '{"a":'.repeat(30_000) + '1' + '}'.repeat(30_000);
  return [
    ['NUL in metadata', withMeta('{"note":"a\\u0000b"}'), /U\+0000/],
    ['NUL in a metadata key', withMeta('{"a\\u0000":"b"}'), /U\+0000/],
    ['lone high surrogate in metadata', withMeta('{"note":"\\ud800"}'), /surrogate/],
    ['lone low surrogate in metadata', withMeta('{"note":"x\\udc00y"}'), /surrogate/],
    [
      'NUL in organization_user_id',
      JSON.stringify(base).replace('"organization_user_id":"hostile@example.com"', '"organization_user_id":"x\\u0000@example.com"'),
      /U\+0000/,
    ],
    [
      'lone surrogate in organization_user_id',
      JSON.stringify(base).replace('"organization_user_id":"hostile@example.com"', '"organization_user_id":"\\udbff@example.com"'),
      /surrogate/,
    ],
    ['a field nested 30,000 levels deep', withMeta(`{"deep":${deep}}`), /deep|depth/],
  ];
}

for (const store of ['sqlite', 'postgres'] as const) {
  test(`${store}: hostile webhooks get 400 naming the problem, and the honest ones sent in the same instant are all stored`, async (t) => {
    // PostgreSQL: a fresh schema of TEST_DATABASE_URL, so no earlier run's rows take part.
    const PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `hostile_${process.pid}`;
    const admin = store === 'postgres' ? new pg.Pool({ connectionString: PG, max: 1 }) : null;
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    const s = await startStack({ store, databaseUrl: `${PG}?options=-c%20search_path%3D${schema}`, env: { BATCH_WAIT_MS: '100' } });
    t.after(async () => {
      await s.close(); // before the schema goes
      await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin?.end();
    });
    const token = await s.token();
    const cases = hostile();
    const honestTexts = Array.from({ length: cases.length * 3 }, (_, i) => honest(i, store));
    // Interleaved in one burst, so hostile and honest appends share a group commit.
    const results = await Promise.all([...cases.map(([, text]) => postRaw(s, token, text)), ...honestTexts.map((t) => postRaw(s, token, t))]);
    cases.forEach(([name, , pattern], i) => {
      assert.equal(results[i].status, 400, `${name}: ${JSON.stringify(results[i].body)?.slice(0, 200)}`);
      assert.equal(results[i].body.error, 'invalid_payload', name);
      assert.match(results[i].body.message, pattern, name);
    });
    assert.deepEqual(
      results.slice(cases.length).map((r) => r.status),
      honestTexts.map(() => 202),
      'every honest webhook is stored',
    );
    // Sent again (as Didomi retries), a hostile webhook is still refused, never 503.
    for (const [name, text] of cases) assert.equal((await postRaw(s, token, text)).status, 400, name);
    await s.waitForDrain();
    const leads = await s.records('Lead');
    assert.equal(leads.filter((l) => String(l.Email).startsWith(`honest-${store}-`)).length, honestTexts.length, 'every honest webhook synced');
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  });
}

test('sqlite group commit: an append that cannot be stored fails alone; the appends sharing its transaction are stored', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { SqliteStore } = await import('../src/store/sqlite.ts');
  const path = join(mkdtempSync(join(tmpdir(), 'group-commit-')), 'db.sqlite');
  const store = new SqliteStore(path);
  await store.migrate();
  const ev = (i: number, payload: unknown) => ({
    dedupeKey: `k${i}`,
    userKey: `u${i}@example.com`,
    type: 'event.created' as const,
    occurredAt: at.toISOString(),
    payload: payload as any,
  });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic; // JSON.stringify throws, as it does on a stack overflow
  // Same tick: one group commit.
  const results = await Promise.allSettled([store.append([ev(1, { ok: 1 })]), store.append([ev(2, cyclic)]), store.append([ev(3, { ok: 3 })])]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal((await store.stats()).pendingEvents, 2, 'the two good events are stored');
  await store.close();
  const again = new SqliteStore(path);
  await again.migrate();
  assert.equal((await again.stats()).pendingEvents, 2, 'and durable');
  await again.close();
});
