// The test-only `mangle` fault (src/mangle.ts): HTTP 200 answers to record writes that do not
// account for every record, with the unaccounted records left unwritten. Not a Salesforce
// behaviour; it lets the middleware prove it never takes such an answer for success.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, client } from './support.ts';
import type { Emulator } from '../src/index.ts';

let emu: Emulator;
let c: Awaited<ReturnType<typeof client>>;
before(async () => {
  emu = await start({ dailyApiLimit: 100_000 });
  c = await client(emu);
});
after(async () => {
  await emu.close();
});

const leads = (names: string[]) => ({ allOrNone: false, records: names.map((n) => ({ attributes: { type: 'Lead' }, LastName: n, Company: 'C' })) });
const raw = (path: string, body: unknown) =>
  fetch(`${emu.url}/services/data/v66.0${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() }));
const count = async (name: string) => (await c.query(`SELECT Id FROM Lead WHERE LastName LIKE '${name}%'`)).body.totalSize;

test('mangle: empty, short, object and non-json answers; unaccounted records unwritten; mangleCount turns it off', async () => {
  await emu.setFaults({ mangle: 'empty', mangleCount: 1 });
  const empty = await raw('/composite', {
    compositeRequest: [{ method: 'POST', url: '/services/data/v66.0/composite/sobjects', referenceId: 'a', body: leads(['E1', 'E2']) }],
  });
  assert.deepEqual([empty.status, JSON.parse(empty.text)], [200, { compositeResponse: [] }]);
  assert.equal(await count('E'), 0);
  assert.equal((await emu.setFaults({})).mangle, 'off', 'mangleCount 1: off after one write');

  await emu.setFaults({ mangle: 'short', mangleCount: 1 });
  const short = JSON.parse((await raw('/composite/sobjects', leads(['S1', 'S2', 'S3']))).text);
  assert.equal(short.length, 2);
  assert.equal(await count('S'), 2, 'the unanswered record is not written');

  await emu.setFaults({ mangle: 'object', mangleCount: 1 });
  const obj = JSON.parse(
    (await raw('/composite', { compositeRequest: [{ method: 'POST', url: '/services/data/v66.0/composite/sobjects', referenceId: 'a', body: leads(['O1']) }] }))
      .text,
  );
  assert.equal(Array.isArray(obj.compositeResponse[0].body), false);
  assert.equal(await count('O'), 0);

  await emu.setFaults({ mangle: 'non-json', mangleCount: 1 });
  const html = await raw('/composite/sobjects', leads(['H1']));
  assert.equal(html.status, 200);
  assert.match(html.type ?? '', /text\/html/);
  assert.throws(() => JSON.parse(html.text));
  assert.equal(await count('H'), 0);

  // Reads are never damaged.
  await emu.setFaults({ mangle: 'empty', mangleCount: 0 });
  assert.equal((await c.query('SELECT Id FROM Lead')).status, 200);
  await emu.setFaults({ mangle: 'off' });
});
