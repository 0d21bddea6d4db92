// REST behaviour checked with an independent client (@jsforce/jsforce-node) and raw HTTP, against
// reference/salesforce.md ("REST resources", "Errors", "Limits").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '@jsforce/jsforce-node';
import { start, client, clientFor } from './support.ts';
import { checksum, normalizeId } from '../src/ids.ts';
import type { Emulator } from '../src/index.ts';

let emu: Emulator;
let c: Awaited<ReturnType<typeof client>>;
let conn: Connection;
before(async () => {
  emu = await start({
    dailyApiLimit: 100_000,
    extraFields: {
      Lead: [{ name: 'Topics__c', type: 'multipicklist', values: ['A', 'B'], restricted: true }],
      Contact: [{ name: 'Legacy_Id__c', type: 'string', externalId: true }],
    },
    // what an admin grants the integration user beyond the package's permission set
    extraPermissionSets: {
      Admin_Grants: {
        'Lead.Email': 'edit',
        'Lead.DoNotCall': 'edit',
        'Contact.Email': 'edit',
        'Contact.DoNotCall': 'edit',
        Lead: 'delete',
        Contact: 'delete',
        'Lead.Topics__c': 'edit',
        'Contact.Legacy_Id__c': 'edit',
      },
      Nothing: {},
    },
    permissionSets: ['Didomi_Sync_Integration', 'Admin_Grants'],
    preAuthorized: { permissionSets: ['Didomi_Sync_Integration', 'Nothing'] },
  });
  c = await client(emu);
  conn = new Connection({ instanceUrl: emu.url, accessToken: c.token, version: '66.0' });
});
after(async () => {
  await emu.close();
});

test('jsforce: create, query, update, upsert and describe the package fields as against an org', async () => {
  const created = await conn.sobject('Lead').create([
    { LastName: 'Js', Company: 'Force', Email: 'js@example.com' },
    { LastName: 'Js2', Company: 'Force', Email: 'js2@example.com' },
  ]);
  assert.ok(created.every((r) => r.success));
  const q = await conn.query<{ Id: string; Email: string }>("SELECT Id, Email FROM Lead WHERE Email LIKE 'js%' ORDER BY LastName");
  assert.deepEqual(
    q.records.map((r) => r.Email),
    ['js@example.com', 'js2@example.com'],
  );
  const upd = await conn.sobject('Lead').update({ Id: q.records[0].Id, Didomi_User_Id__c: 'JS@example.com', HasOptedOutOfEmail: true });
  assert.equal((upd as { success: boolean }).success, true);
  const ups = await conn.sobject('Lead').upsert(
    [
      { Didomi_User_Id__c: 'js@EXAMPLE.com', DoNotCall: true },
      { Didomi_User_Id__c: 'brand-new', LastName: 'N', Company: 'C' },
    ],
    'Didomi_User_Id__c',
  );
  assert.deepEqual(
    (ups as any[]).map((r) => [r.success, r.created]),
    [
      [true, false],
      [true, true],
    ],
    'external ids are case-insensitive',
  );
  const d = await conn.describe('Lead');
  const f = d.fields.find((x) => x.name === 'Didomi_User_Id__c')!;
  assert.equal(f.type, 'string');
  assert.equal(f.length, 255);
  assert.equal(f.externalId, true);
  assert.equal(f.unique, true);
  assert.equal(f.updateable, true, 'the integration permission set grants edit');
  assert.equal(d.fields.find((x) => x.name === 'Didomi_Consents__c')!.type, 'textarea');
});

test('SOQL: operators, escapes, NOT/IN/LIKE, parentheses, null, booleans, numbers, dates, ORDER BY, LIMIT, OFFSET, COUNT(), MAX()', async () => {
  emu.seed({
    Lead: [
      { LastName: "O'Neil", Company: 'Q', Email: "o'neil@q.com", HasOptedOutOfEmail: true },
      { LastName: 'Back\\slash', Company: 'Q', Email: 'back\\slash@q.com' },
      { LastName: '100%_real', Company: 'Q', Email: 'pct@q.com' },
      { LastName: 'Nobody', Company: 'Q' },
    ],
  });
  const names = async (where: string) =>
    ((await c.query(`SELECT LastName FROM Lead WHERE Company = 'Q' AND (${where}) ORDER BY LastName`)).body.records as any[]).map((r) => r.LastName);
  assert.deepEqual(await names("Email = 'O\\'NEIL@Q.COM'"), ["O'Neil"], "\\' escape and case-insensitive =");
  assert.deepEqual(await names("Email = 'back\\\\slash@q.com'"), ['Back\\slash'], '\\\\ escape');
  assert.deepEqual(await names("LastName LIKE '100\\%\\_%'"), ['100%_real'], 'escaped LIKE wildcards');
  assert.deepEqual(await names("LastName LIKE '%o%'"), ['Nobody', "O'Neil"]);
  assert.deepEqual(await names('Email = null'), ['Nobody']);
  assert.deepEqual(await names('HasOptedOutOfEmail = true'), ["O'Neil"]);
  assert.deepEqual(await names("NOT (Email IN ('pct@q.com', 'o\\'neil@q.com'))"), ['Back\\slash', 'Nobody']);
  assert.deepEqual(await names("Email NOT IN ('pct@q.com') OR Email = null"), ['Back\\slash', 'Nobody', "O'Neil"]);
  assert.deepEqual(await names('CreatedDate > 2020-01-01T00:00:00Z'), ['100%_real', 'Back\\slash', 'Nobody', "O'Neil"]);
  const page = await c.query("SELECT LastName FROM Lead WHERE Company = 'Q' ORDER BY LastName DESC LIMIT 2 OFFSET 1");
  assert.deepEqual(
    page.body.records.map((r: any) => r.LastName),
    ['Nobody', 'Back\\slash'],
  );
  assert.equal((await c.query("SELECT COUNT() FROM Lead WHERE Company = 'Q'")).body.totalSize, 4);
  const max = await c.query("SELECT MAX(LastName) FROM Lead WHERE Company = 'Q'");
  assert.equal(max.body.records[0].expr0, "O'Neil");
  // SOQL forbids mixing AND and OR without parentheses
  const mixed = await c.query("SELECT Id FROM Lead WHERE Company = 'Q' AND Email = null OR LastName = 'x'");
  assert.equal(mixed.status, 400);
  assert.equal(mixed.body[0].errorCode, 'MALFORMED_QUERY');
});

test('SOQL errors: MALFORMED_QUERY, INVALID_FIELD with Salesforce wording, INVALID_TYPE, limits on length', async () => {
  const bad = await c.query('SELECT Id FROM Lead WHERE');
  assert.equal(bad.status, 400);
  assert.equal(bad.body[0].errorCode, 'MALFORMED_QUERY');
  assert.match(bad.body[0].message, /ERROR at Row:1:Column:\d+\nunexpected token: <EOF>/);
  const field = await c.query('SELECT Nope__c FROM Lead');
  assert.equal(field.body[0].errorCode, 'INVALID_FIELD');
  assert.match(field.body[0].message, /No such column 'Nope__c' on entity 'Lead'/);
  assert.equal((await c.query('SELECT Id FROM Nope__c')).body[0].errorCode, 'INVALID_TYPE');
  assert.equal((await c.query(`SELECT Id FROM Lead WHERE Email = '${'x'.repeat(4001)}'`)).body[0].errorCode, 'MALFORMED_QUERY');
  const long = await c.query(`SELECT Id FROM Lead WHERE Email IN (${Array.from({ length: 2000 }, (_, i) => `'user${i}@example.com'`).join(',')})`);
  assert.equal(long.status, 414, 'request URI over 16,384 bytes');
  assert.equal((await c.query("SELECT Id FROM Lead WHERE Email = 'bad \\q escape'")).body[0].errorCode, 'MALFORMED_QUERY');
  const dup = await c.query('SELECT Id, Email, email FROM Lead');
  assert.equal(dup.body[0].errorCode, 'MALFORMED_QUERY');
  assert.match(dup.body[0].message, /ERROR at Row:1:Column:\d+\nduplicate field selected: Email/);
});

test('object permissions come from permission sets: no read hides the object, no create/edit/delete refuses the write (Salesforce Help, "Object Permissions")', async () => {
  emu.org.addUser('objects@example.com', ['Didomi_Sync_Integration']);
  const u = await clientFor(emu, 'objects@example.com');
  const [lead] = emu.seed({ Lead: [{ LastName: 'Obj', Company: 'C' }] }).Lead;
  // Lead: create, read, edit, no delete in the package's permission set
  const d = (await u.call('GET', '/sobjects/Lead/describe')).body;
  assert.deepEqual([d.queryable, d.createable, d.updateable, d.deletable], [true, true, true, false]);
  const del = await u.call('DELETE', `/composite/sobjects?ids=${lead}`);
  assert.equal(del.body[0].errors[0].statusCode, 'INSUFFICIENT_ACCESS_OR_READONLY');
  assert.ok(emu.org.get('Lead', lead), 'not deleted');
  // targets: read only
  const t = await u.call('POST', '/composite/sobjects', { records: [{ attributes: { type: 'Didomi_Sync_Target__c' }, Name: 'x' }] });
  assert.equal(t.body[0].errors[0].statusCode, 'INSUFFICIENT_ACCESS_OR_READONLY');
  // no permission at all: the object does not exist for this user
  emu.org.addUser('none@example.com', ['Nothing']); // pre-authorized for the app, and nothing else
  const none = await clientFor(emu, 'none@example.com');
  assert.equal((await none.query('SELECT Id FROM Lead')).body[0].errorCode, 'INVALID_TYPE');
  assert.equal((await none.call('GET', '/sobjects/Lead/describe')).status, 404);
  assert.ok(!(await none.call('GET', '/sobjects')).body.sobjects.some((o: any) => o.name === 'Lead'));
  // an admin's own permission set may grant delete
  const granted = (await c.call('DELETE', `/composite/sobjects?ids=${lead}`)).body[0];
  assert.equal(granted.success, true, 'Admin_Grants gives Lead delete');
});

test('long text area fields cannot be filtered or sorted in SOQL, and describe says so (SOQL and SOSL Reference, "WHERE"; Object Reference: Filter, Sort)', async () => {
  const where = await c.query("SELECT Id FROM Lead WHERE Didomi_Consents__c = 'x'");
  assert.equal(where.status, 400);
  assert.equal(where.body[0].errorCode, 'INVALID_FIELD');
  assert.match(where.body[0].message, /field 'Didomi_Consents__c' can not be filtered in a query call/);
  assert.equal((await c.query("SELECT Id FROM Lead WHERE Didomi_Consents__c LIKE '%x%'")).status, 400);
  const order = await c.query('SELECT Id FROM Lead ORDER BY Didomi_Consents__c');
  assert.match(order.body[0].message, /field 'Didomi_Consents__c' can not be sorted in a query call/);
  assert.equal((await c.query('SELECT Id, Didomi_Consents__c FROM Lead LIMIT 1')).status, 200, 'selecting it is fine');
  const d = (await c.call('GET', '/sobjects/Lead/describe')).body.fields.find((x: any) => x.name === 'Didomi_Consents__c');
  assert.deepEqual([d.filterable, d.sortable], [false, false]);
});

test('queryMore: 2,000 records a page and nextRecordsUrl', async () => {
  emu.seed({ Contact: Array.from({ length: 4500 }, (_, i) => ({ LastName: `P${i}`, Email: `p${i}@page.com` })) });
  const first = await c.query('SELECT Id FROM Contact');
  assert.equal(first.body.records.length, 2000);
  assert.equal(first.body.totalSize, 4500);
  assert.equal(first.body.done, false);
  const all = await conn.query('SELECT Id FROM Contact', {}).run({ autoFetch: true, maxFetch: 10_000 });
  assert.equal(all.records.length, 4500, 'jsforce follows nextRecordsUrl');
});

test('field rules: required, too long, restricted picklist, unique external id, read-only, converted leads, FLS', async () => {
  const res = await c.call('POST', '/composite/sobjects', {
    allOrNone: false,
    records: [
      { attributes: { type: 'Lead' }, LastName: 'NoCompany' },
      { attributes: { type: 'Lead' }, LastName: 'x'.repeat(81), Company: 'C' },
      { attributes: { type: 'Lead' }, LastName: 'P', Company: 'C', Topics__c: 'A;Z' },
      { attributes: { type: 'Lead' }, LastName: 'U1', Company: 'C', Didomi_User_Id__c: 'dup@x.com' },
      { attributes: { type: 'Lead' }, LastName: 'U2', Company: 'C', Didomi_User_Id__c: 'DUP@x.com' },
      { attributes: { type: 'Lead' }, LastName: 'RO', Company: 'C', IsConverted: true },
    ],
  });
  const codes = res.body.map((r: any) => (r.success ? 'ok' : r.errors[0].statusCode));
  assert.deepEqual(codes, ['REQUIRED_FIELD_MISSING', 'STRING_TOO_LONG', 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'ok', 'DUPLICATE_VALUE', 'ok']);
  assert.equal(res.body[0].errors[0].message, 'Required fields are missing: [Company]');
  assert.deepEqual(res.body[0].errors[0].fields, ['Company']);
  // SOAP API Developer Guide "Error": `fields` names the fields that affected the error condition.
  assert.deepEqual(res.body[1].errors[0].fields, ['LastName']);
  assert.deepEqual(res.body[2].errors[0].fields, ['Topics__c']);
  assert.match(res.body[1].errors[0].message, /Last Name: data value too large: .* \(max length=80\)/);
  assert.match(res.body[4].errors[0].message, /duplicate value found: Didomi_User_Id__c duplicates value on record with id: 00Q/);
  const emails = await c.call('POST', '/composite/sobjects', {
    records: ['a@b', 'a b@example.com', 'a@example.com'].map((Email) => ({ attributes: { type: 'Lead' }, LastName: 'E', Company: 'C', Email })),
  });
  assert.deepEqual(
    emails.body.map((r: any) => (r.success ? 'ok' : r.errors[0].statusCode)),
    ['INVALID_EMAIL_ADDRESS', 'INVALID_EMAIL_ADDRESS', 'ok'],
  );
  const [conv] = emu.seed({ Lead: [{ LastName: 'Conv', Company: 'C', IsConverted: true }] }).Lead;
  const upd = await c.call('PATCH', '/composite/sobjects', { allOrNone: false, records: [{ attributes: { type: 'Lead' }, id: conv, DoNotCall: true }] });
  assert.equal(upd.body[0].errors[0].statusCode, 'CANNOT_UPDATE_CONVERTED_LEAD');
  // field-level security: an admin-only field is invisible to a user without the permission set
  emu.org.addUser('nobody@example.com', []);
  const status = emu.org.schema.objects.get('didomi_sync_status__c')!;
  assert.equal(emu.org.access(emu.org.users.get('nobody@example.com')!, status, status.fields.get('queue_depth__c')!).readable, false);
  const ro = await c.call('POST', '/sobjects/Didomi_Sync_Target__c', { Name: 'T', Object__c: 'Lead', Active__c: true });
  assert.equal(ro.status, 400);
  assert.equal(ro.body[0].errorCode, 'INSUFFICIENT_ACCESS_OR_READONLY', 'the integration user may only read targets');
});

test('field-level security on standard fields comes from permission sets only; the integration profile grants none (Salesforce Help, "Field-Level Security")', async () => {
  // Only the package's permission set: Email, HasOptedOutOfEmail and DoNotCall editable (Lead, Contact), Phone invisible.
  emu.org.addUser('pkg-only@example.com', ['Didomi_Sync_Integration']);
  const pkg = await clientFor(emu, 'pkg-only@example.com');
  const d = (await pkg.call('GET', '/sobjects/Lead/describe')).body;
  const field = (n: string) => d.fields.find((x: any) => x.name === n);
  assert.equal(field('Email').updateable, true);
  assert.equal(field('HasOptedOutOfEmail').updateable, true);
  assert.equal(field('DoNotCall').updateable, true);
  assert.equal(field('Phone'), undefined, 'no grant: invisible');
  assert.equal(field('Topics__c'), undefined, "the org's own custom field needs a grant too");
  assert.equal(field('LastName').updateable, true, 'required fields are always accessible');
  const q = await pkg.query("SELECT Id FROM Lead WHERE Phone = '1'");
  assert.equal(q.status, 400);
  assert.equal(q.body[0].errorCode, 'INVALID_FIELD');
  const [id] = emu.seed({ Lead: [{ LastName: 'Fls', Company: 'C', Email: 'fls@x.com' }] }).Lead;
  const w = await pkg.call('PATCH', '/composite/sobjects', {
    records: [
      { attributes: { type: 'Lead' }, id, Phone: '+33100000000' },
      { attributes: { type: 'Lead' }, id, HasOptedOutOfEmail: true },
    ],
  });
  assert.deepEqual(
    w.body.map((r: any) => (r.success ? 'ok' : r.errors[0].statusCode)),
    ['INVALID_FIELD', 'ok'],
  );
  // Person account fields follow the Contact fields' security; a System Administrator sees every field.
  const acc = (await pkg.call('GET', '/sobjects/Account/describe')).body.fields.map((x: any) => x.name);
  assert.ok(acc.includes('PersonEmail') && acc.includes('PersonHasOptedOutOfEmail') && acc.includes('PersonDoNotCall') && !acc.includes('Phone'));
  emu.org.addUser('admin@example.com', [], true, 'System Administrator');
  const admin = await clientFor(emu, 'admin@example.com');
  const all = (await admin.call('GET', '/sobjects/Lead/describe')).body.fields;
  assert.equal(all.find((x: any) => x.name === 'Phone').updateable, true);
});

test('collections: 200-record limit, allOrNone rollback with ALL_OR_NONE_OPERATION_ROLLED_BACK, results in order', async () => {
  const tooMany = await c.call('POST', '/composite/sobjects', {
    records: Array.from({ length: 201 }, (_, i) => ({ attributes: { type: 'Contact' }, LastName: `x${i}` })),
  });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body[0].errorCode, 'EXCEEDED_ID_LIMIT');
  const before = (await c.query("SELECT COUNT() FROM Contact WHERE LastName LIKE 'aon%'")).body.totalSize;
  const aon = await c.call('POST', '/composite/sobjects', {
    allOrNone: true,
    records: [
      { attributes: { type: 'Contact' }, LastName: 'aon1' },
      { attributes: { type: 'Contact' } },
      { attributes: { type: 'Contact' }, LastName: 'aon3' },
    ],
  });
  assert.equal(aon.status, 200);
  assert.deepEqual(
    aon.body.map((r: any) => r.errors[0]?.statusCode),
    ['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'REQUIRED_FIELD_MISSING', 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
  );
  assert.equal((await c.query("SELECT COUNT() FROM Contact WHERE LastName LIKE 'aon%'")).body.totalSize, before, 'nothing kept');
  // collections delete: per-record results in order; a deleted record is gone
  const [gone, kept] = emu.seed({ Contact: [{ LastName: 'del1' }, { LastName: 'del2' }] }).Contact;
  const del = await c.call('DELETE', `/composite/sobjects?ids=${gone}&allOrNone=false`);
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, [{ id: gone, success: true, errors: [] }]);
  assert.equal(emu.org.get('Contact', gone), undefined);
  assert.ok(emu.org.get('Contact', kept), 'only the named record is deleted');
});

test('collections: at most 10 type chunks per create or update, inside /composite too (REST API Developer Guide, sObject Collections)', async () => {
  const leadsBefore = (await c.query('SELECT COUNT() FROM Lead')).body.totalSize;
  // Alternating types: each record starts a new chunk, so 11 records are 11 chunks.
  const alternating = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      i % 2 ? { attributes: { type: 'Contact' }, LastName: `chunk${i}` } : { attributes: { type: 'Lead' }, LastName: `chunk${i}`, Company: 'Acme' },
    );
  const refused = await c.call('POST', '/composite/sobjects', { records: alternating(11) });
  assert.equal(refused.status, 400);
  assert.equal(refused.body[0].errorCode, 'EXCEEDED_ID_LIMIT');
  assert.match(refused.body[0].message, /more than 10 chunks/);
  assert.equal((await c.query('SELECT COUNT() FROM Lead')).body.totalSize, leadsBefore, 'nothing created');
  const ten = await c.call('POST', '/composite/sobjects', { records: alternating(10) });
  assert.equal(ten.status, 200, '10 chunks are allowed');
  assert.ok(ten.body.every((r: any) => r.success));
  // 20 records sorted by type are 2 chunks
  const sorted = await c.call('POST', '/composite/sobjects', {
    records: alternating(20).sort((a, b) => a.attributes.type.localeCompare(b.attributes.type)),
  });
  assert.equal(sorted.status, 200);
  // update: the same rule, and inside /composite the subrequest answers 400 while the request answers 200
  const ids: string[] = ten.body.map((r: any) => r.id); // Lead, Contact, Lead, ... as created
  const updates = [...ids, ids[0], ids[1]].map((id, i) => ({ attributes: { type: i % 2 ? 'Contact' : 'Lead' }, id, FirstName: 'X' }));
  const comp = await c.call('POST', '/composite', {
    compositeRequest: [{ method: 'PATCH', url: '/services/data/v66.0/composite/sobjects', referenceId: 'u', body: { records: updates } }],
  });
  assert.equal(comp.status, 200);
  assert.equal(comp.body.compositeResponse[0].httpStatusCode, 400);
  assert.equal(comp.body.compositeResponse[0].body[0].errorCode, 'EXCEEDED_ID_LIMIT');
});

test('composite: one API call for up to 25 subrequests, @{ref} references, at most 5 collections or queries, allOrNone', async () => {
  const before = emu.stats().apiCalls.total;
  const res = await c.call('POST', '/composite', {
    allOrNone: false,
    compositeRequest: [
      { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'acc', body: { Name: 'Ref Inc' } },
      { method: 'POST', url: '/services/data/v66.0/sobjects/Contact', referenceId: 'con', body: { LastName: 'Ref', AccountId: '@{acc.id}' } },
      { method: 'GET', url: '/services/data/v66.0/sobjects/Contact/@{con.id}', referenceId: 'get' },
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body.compositeResponse.map((r: any) => r.httpStatusCode),
    [201, 201, 200],
  );
  assert.equal(res.body.compositeResponse[2].body.AccountId, res.body.compositeResponse[0].body.id);
  assert.equal(emu.stats().apiCalls.total - before, 1, 'the whole composite counts as one call');
  const q = (i: number) => ({ method: 'GET', url: '/services/data/v66.0/query?q=SELECT+Id+FROM+Lead+LIMIT+1', referenceId: `q${i}` });
  assert.equal((await c.call('POST', '/composite', { compositeRequest: [0, 1, 2, 3, 4, 5].map(q) })).status, 400);
  assert.equal(
    (await c.call('POST', '/composite', { compositeRequest: Array.from({ length: 26 }, (_, i) => ({ ...q(i), url: '/services/data/v66.0/limits' })) })).status,
    400,
  );
  const aon = await c.call('POST', '/composite', {
    allOrNone: true,
    compositeRequest: [
      { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'a1', body: { Name: 'Rolled Back Inc' } },
      { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'a2', body: {} },
    ],
  });
  assert.deepEqual(
    aon.body.compositeResponse.map((r: any) => r.httpStatusCode),
    [400, 400],
  );
  assert.equal((await c.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled Back Inc'")).body.totalSize, 0);
});

test('composite: a query subrequest is held to the 100,000-character SOQL limit, not to the 16,384-byte URI limit of a request (Salesforce Help 000386264; reference/salesforce.md)', async () => {
  const inList = (n: number) => Array.from({ length: n }, (_, i) => `'user${i}@example.com'`).join(',');
  const soql = (n: number) => `SELECT Id FROM Lead WHERE Email IN (${inList(n)})`;
  const url = (n: number) => `/services/data/v66.0/query?q=${encodeURIComponent(soql(n))}`;
  assert.ok(url(2000).length > 16_384 && soql(2000).length < 100_000 && soql(5000).length > 100_000);
  assert.equal((await c.query(soql(2000))).status, 414, 'on its own: URI too long');
  const res = await c.call('POST', '/composite', {
    compositeRequest: [
      { method: 'GET', url: url(2000), referenceId: 'long' },
      { method: 'GET', url: url(5000), referenceId: 'tooLong' },
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body.compositeResponse.map((r: any) => [r.httpStatusCode, r.body?.[0]?.errorCode ?? 'ok']),
    [
      [200, 'ok'],
      [400, 'MALFORMED_QUERY'],
    ],
  );
});

test('single-record upsert by external id: 201 created, 204 updated, 300 on several matches', async () => {
  const r1 = await c.call('PATCH', '/sobjects/Contact/Didomi_User_Id__c/one%40x.com', { LastName: 'One' });
  assert.equal(r1.status, 201);
  assert.equal(r1.body.created, true);
  assert.equal((await c.call('PATCH', '/sobjects/Contact/Didomi_User_Id__c/one%40x.com', { DoNotCall: true })).status, 204);
  // REST API Developer Guide, "Upsert Records Using sObject Rows by External ID": an external id (not unique) matched
  // several times answers 300 with the matching records, and nothing is created or updated
  const [m1, m2] = emu.seed({
    Contact: [
      { LastName: 'M1', Legacy_Id__c: 'L-7' },
      { LastName: 'M2', Legacy_Id__c: 'l-7' },
    ],
  }).Contact;
  const multi = await c.call('PATCH', '/sobjects/Contact/Legacy_Id__c/L-7', { DoNotCall: true });
  assert.equal(multi.status, 300);
  assert.deepEqual([...multi.body].sort(), [m1, m2].map((id) => `/services/data/v66.0/sobjects/Contact/${id}`).sort());
  assert.deepEqual(
    [m1, m2].map((id) => emu.org.get('Contact', id)!.DoNotCall),
    [false, false],
    'neither record updated',
  );
  assert.equal((await c.query("SELECT COUNT() FROM Contact WHERE Legacy_Id__c = 'L-7'")).body.totalSize, 2, 'none created');
  const notExternal = await c.call('PATCH', '/sobjects/Contact/LastName/M1', { DoNotCall: true });
  assert.equal(notExternal.status, 400, 'only an External ID field can key an upsert');
});

test('limits: Sforce-Limit-Info on every response, /limits, daily allocation enforced with REQUEST_LIMIT_EXCEEDED', async () => {
  const small = await start({ dailyApiLimit: 3 });
  try {
    const sc = await client(small);
    const l = await sc.call('GET', '/limits');
    assert.equal(l.headers.get('sforce-limit-info'), 'api-usage=1/3');
    assert.equal(l.body.DailyApiRequests.Max, 3);
    await sc.call('GET', '/limits');
    await sc.call('GET', '/limits');
    const over = await sc.call('GET', '/limits');
    assert.equal(over.status, 403);
    assert.deepEqual(over.body, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    assert.equal(over.headers.get('sforce-limit-info'), 'api-usage=3/3');
  } finally {
    await small.close();
  }
});

test('faults: latency, 503 SERVER_UNAVAILABLE, refused connections, held calls, row locks, validation rules, limit exhaustion, a response lost after its write', async () => {
  await emu.setFaults({ outage: '503' });
  const o = await c.call('GET', '/limits');
  assert.equal(o.status, 503);
  assert.equal(o.body[0].errorCode, 'SERVER_UNAVAILABLE');
  await emu.setFaults({ outage: 'refuse' });
  await assert.rejects(fetch(`${emu.url}/services/data/v66.0/limits`));
  await emu.setFaults({ outage: 'off', latencyMs: 150 });
  const t = Date.now();
  await c.call('GET', '/limits');
  assert.ok(Date.now() - t >= 140);
  await emu.setFaults({ latencyMs: 0, hold: true });
  let answered = false;
  const held = c.call('GET', '/limits').finally(() => (answered = true));
  while (emu.stats().inFlight === 0) await new Promise((r) => setTimeout(r, 5)); // the call has reached the emulator
  assert.equal(answered, false, 'a held call stays unanswered while hold is on');
  await emu.setFaults({ hold: false });
  assert.equal((await held).status, 200, 'and is answered once it is off');
  await emu.setFaults({ lockRowShare: 1 });
  const locked = await c.call('POST', '/composite/sobjects', { records: [{ attributes: { type: 'Contact' }, LastName: 'L' }] });
  assert.equal(locked.body[0].errors[0].statusCode, 'UNABLE_TO_LOCK_ROW');
  await emu.setFaults({ lockRowShare: 0, validationRules: [{ sobject: 'Contact', field: 'LastName', value: 'Rejected', message: 'Nope' }] });
  const v = await c.call('POST', '/composite/sobjects', {
    records: [
      { attributes: { type: 'Contact' }, LastName: 'Rejected' },
      { attributes: { type: 'Contact' }, LastName: 'Fine' },
    ],
  });
  assert.deepEqual(
    v.body.map((r: any) => (r.success ? 'ok' : r.errors[0].statusCode)),
    ['FIELD_CUSTOM_VALIDATION_EXCEPTION', 'ok'],
  );
  await emu.setFaults({ validationRules: [], limitExhausted: true });
  assert.equal((await c.call('GET', '/limits')).body[0].errorCode, 'REQUEST_LIMIT_EXCEEDED');
  await emu.setFaults({ limitExhausted: false, dropWriteResponses: 1 });
  // a lost response: the write is committed, the client sees the connection drop
  const readOnly = await c.query("SELECT COUNT() FROM Contact WHERE LastName = 'Lost'");
  assert.equal(readOnly.body.totalSize, 0, 'a request that writes nothing is answered');
  await assert.rejects(c.call('POST', '/sobjects/Contact', { LastName: 'Lost' }));
  assert.equal((await c.query("SELECT COUNT() FROM Contact WHERE LastName = 'Lost'")).body.totalSize, 1, 'the write landed');
  assert.equal(emu.stats().droppedResponses, 1);
  assert.equal((await c.call('POST', '/sobjects/Contact', { LastName: 'Lost' })).status, 201, 'only the next write loses its response');
  const stats = (await (await fetch(`${emu.url}/__emulator/stats`)).json()) as any;
  assert.ok(stats.apiCalls.total > 0 && stats.records.Contact > 0);
});

test('ids: 15/18 characters with the case-insensitivity checksum and the right key prefixes', async () => {
  const [lead] = emu.seed({ Lead: [{ LastName: 'Id', Company: 'C' }] }).Lead;
  assert.match(lead, /^00Q\w{15}$/);
  assert.equal(checksum(lead.slice(0, 15)), lead.slice(15));
  assert.equal(normalizeId(lead.slice(0, 15)), lead);
  assert.equal(normalizeId('001000000000000AAB'), null, 'bad checksum');
  const got = await c.call('GET', `/sobjects/Lead/${lead.slice(0, 15)}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.Id, lead);
  assert.match(emu.seed({ Contact: [{ LastName: 'c' }], Account: [{ Name: 'a' }] }).Contact[0], /^003/);
});
