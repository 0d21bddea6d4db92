// The UI API and GraphQL subset the admin tab reads and writes through LDS, checked over HTTP
// against the shapes of the UI API Developer Guide (Object Info, Record, errors) and the GraphQL API
// Developer Guide (uiapi.query connections, { value, displayValue }, cursors, errors with HTTP 200).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, client, clientFor } from './support.ts';
import type { Emulator } from '../src/index.ts';

let emu: Emulator;
let c: Awaited<ReturnType<typeof client>>;
before(async () => {
  emu = await start({
    permissionSets: ['Didomi_Sync_Admin'],
    profile: 'System Administrator',
    extraFields: {
      Lead: [
        { name: 'Marketing_Consent__c', type: 'boolean' },
        { name: 'Newsletter_Topics__c', type: 'string' },
      ],
    },
  });
  c = await client(emu);
});
after(async () => {
  await emu.close();
});

const gql = (query: string, variables?: Record<string, unknown>) => c.call('POST', '/graphql', { query, variables });

test('object info: UI API data types, createable/updateable, required and the admin permission set', async () => {
  const r = await c.call('GET', '/ui-api/object-info/Lead');
  assert.equal(r.status, 200);
  assert.equal(r.body.apiName, 'Lead');
  assert.equal(r.body.labelPlural, 'Leads');
  assert.equal(r.body.keyPrefix, '00Q');
  const f = r.body.fields;
  assert.equal(f.HasOptedOutOfEmail.dataType, 'Boolean');
  assert.equal(f.Marketing_Consent__c.dataType, 'Boolean');
  assert.equal(f.Newsletter_Topics__c.dataType, 'String');
  assert.equal(f.Email.dataType, 'Email');
  assert.equal(f.Status.dataType, 'Picklist');
  assert.equal(f.Didomi_Consents__c.dataType, 'TextArea');
  assert.equal(f.CreatedDate.dataType, 'DateTime');
  assert.equal(f.CreatedDate.updateable, false);
  assert.equal(f.LastName.required, true);
  assert.equal(f.Company.required, true);
  assert.equal(f.Email.required, false);
  const mapping = await c.call('GET', '/ui-api/object-info/Didomi_Field_Mapping__c');
  assert.equal(mapping.body.fields.Kind__c.dataType, 'Picklist');
  assert.equal(mapping.body.fields.Target__c.dataType, 'Reference');
  assert.deepEqual(
    mapping.body.fields.Target__c.referenceToInfos.map((x: any) => x.apiName),
    ['Didomi_Sync_Target__c'],
  );
  const missing = await c.call('GET', '/ui-api/object-info/Nope__c');
  assert.equal(missing.status, 404);
  assert.equal(missing.body[0].errorCode, 'NOT_FOUND');
});

test('object info: object permissions and field-level security of a user without the administrator profile (Salesforce Help, "Object Permissions", "Field-Level Security")', async () => {
  emu.org.addUser('integration-ui@example.com', ['Didomi_Sync_Integration']);
  const u = await clientFor(emu, 'integration-ui@example.com');
  const target = (await u.call('GET', '/ui-api/object-info/Didomi_Sync_Target__c')).body;
  assert.deepEqual([target.queryable, target.createable, target.updateable, target.deletable], [true, false, false, false]);
  const lead = (await u.call('GET', '/ui-api/object-info/Lead')).body;
  assert.equal(lead.fields.Phone, undefined, 'no field permission: left out');
  // the package's integration permission set grants edit on Email (upsert mode sets it), DoNotCall and HasOptedOutOfEmail
  assert.equal(lead.fields.Email.updateable, true);
  assert.equal(lead.fields.DoNotCall.updateable, true);
  assert.equal(lead.fields.HasOptedOutOfEmail.updateable, true);
  const status = await u.call('GET', '/ui-api/object-info/Didomi_Sync_Status__c');
  assert.equal(status.body.createable, true);
});

test('records: create, get with fields, update and delete, with UI API record errors', async () => {
  const created = await c.call('POST', '/ui-api/records', {
    apiName: 'Didomi_Sync_Target__c',
    fields: { Name: 'Lead target', Object__c: 'Lead', Active__c: true, Match_Field__c: 'Email', Deletion_Behavior__c: 'Ignore' },
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.apiName, 'Didomi_Sync_Target__c');
  assert.match(created.body.id, /^[a-zA-Z0-9]{18}$/);
  assert.deepEqual(created.body.fields.Object__c, { displayValue: 'Lead', value: 'Lead' });
  assert.match(created.body.fields.CreatedDate.value, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const got = await c.call('GET', `/ui-api/records/${created.body.id}?fields=Didomi_Sync_Target__c.Active__c,Didomi_Sync_Target__c.Match_Field__c`);
  assert.equal(got.status, 200);
  assert.deepEqual(Object.keys(got.body.fields).sort(), ['Active__c', 'Match_Field__c']);
  assert.equal(got.body.fields.Active__c.value, true);

  const upd = await c.call('PATCH', `/ui-api/records/${created.body.id}`, { fields: { Active__c: false } });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.fields.Active__c.value, false);
  assert.equal(emu.org.get('Didomi_Sync_Target__c', created.body.id)!.Active__c, false);

  const bad = await c.call('POST', '/ui-api/records', {
    apiName: 'Didomi_Field_Mapping__c',
    fields: { Target__c: created.body.id, Kind__c: 'Nonsense', Field_Api_Name__c: 'X' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.enhancedErrorType, 'RecordError');
  assert.equal(bad.body.output.fieldErrors.Kind__c[0].errorCode, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
  assert.match(bad.body.output.fieldErrors.Kind__c[0].message, /bad value for restricted picklist field: Nonsense/);

  const del = await c.call('DELETE', `/ui-api/records/${created.body.id}`);
  assert.equal(del.status, 204);
  assert.equal(emu.org.get('Didomi_Sync_Target__c', created.body.id), undefined);
  assert.equal((await c.call('GET', `/ui-api/records/${created.body.id}`)).status, 404);
});

test('graphql: where, orderBy, first/after paging, totalCount and { value, displayValue } nodes', async () => {
  const now = Date.parse('2026-11-24T10:00:00Z');
  for (let i = 1; i <= 25; i++) {
    const r = await c.call('POST', '/ui-api/records', {
      apiName: 'Didomi_Sync_Error__c',
      fields: {
        Status__c: i % 5 === 0 ? 'Dismissed' : 'Open',
        Error_Code__c: 'INVALID_EMAIL_ADDRESS',
        Organization_User_Id__c: `u${i}@example.com`,
        Last_Failed_At__c: new Date(now + i * 60_000).toISOString(),
        Attempts__c: i,
      },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const query = `query errors($where: Didomi_Sync_Error__c_Filter, $first: Int, $after: String) {
    uiapi { query { Didomi_Sync_Error__c(where: $where, first: $first, after: $after, orderBy: { Last_Failed_At__c: { order: DESC } }) {
      edges { node { Id Name { value } Status__c { value displayValue } Attempts__c { value } Last_Failed_At__c { value } } }
      totalCount
      pageInfo { hasNextPage endCursor }
    } } } }`;
  const p1 = await gql(query, { where: { Status__c: { eq: 'Open' } }, first: 15, after: null });
  assert.equal(p1.status, 200);
  assert.deepEqual(p1.body.errors, []);
  const conn = p1.body.data.uiapi.query.Didomi_Sync_Error__c;
  assert.equal(conn.totalCount, 20);
  assert.equal(conn.edges.length, 15);
  assert.equal(conn.pageInfo.hasNextPage, true);
  assert.equal(conn.edges[0].node.Attempts__c.value, 24, 'newest first');
  assert.deepEqual(conn.edges[0].node.Status__c, { value: 'Open', displayValue: 'Open' });
  assert.match(conn.edges[0].node.Name.value, /^ERR-\d{6}$/);
  assert.match(conn.edges[0].node.Id, /^[a-zA-Z0-9]{18}$/, 'Id is a bare scalar');
  assert.match(conn.edges[0].node.Last_Failed_At__c.value, /Z$/);

  const p2 = await gql(query, { where: { Status__c: { eq: 'Open' } }, first: 15, after: conn.pageInfo.endCursor });
  const conn2 = p2.body.data.uiapi.query.Didomi_Sync_Error__c;
  assert.equal(conn2.edges.length, 5);
  assert.equal(conn2.pageInfo.hasNextPage, false);
  const ids = new Set([...conn.edges, ...conn2.edges].map((e: any) => e.node.Id));
  assert.equal(ids.size, 20, 'pages do not overlap');

  const all = await gql(query, { where: {}, first: 100 });
  assert.equal(all.body.data.uiapi.query.Didomi_Sync_Error__c.totalCount, 25);
  const some = await gql(query, {
    where: { and: [{ Attempts__c: { gte: 10 } }, { or: [{ Status__c: { eq: 'Dismissed' } }, { Attempts__c: { in: [11, 12] } }] }] },
  });
  assert.deepEqual(
    some.body.data.uiapi.query.Didomi_Sync_Error__c.edges.map((e: any) => e.node.Attempts__c.value),
    [25, 20, 15, 12, 11, 10],
  );
});

test('graphql: invalid queries answer HTTP 200 with errors, as the GraphQL API does', async () => {
  const syntax = await gql('query { uiapi { query { Lead( } } }');
  assert.equal(syntax.status, 200);
  assert.equal(syntax.body.data, null);
  assert.match(syntax.body.errors[0].message, /Invalid Syntax/);
  const unknownObject = await gql('query { uiapi { query { Nope__c { edges { node { Id } } } } } }');
  assert.match(unknownObject.body.errors[0].message, /Field 'Nope__c' in type 'RecordQuery' is undefined/);
  const unknownField = await gql('query { uiapi { query { Lead { edges { node { Id Bogus__c { value } } } } } } }');
  assert.match(unknownField.body.errors[0].message, /Field 'Bogus__c' in type 'Lead' is undefined/);
  // long text areas cannot be filtered or sorted (GraphQL API: filter and order inputs; SOQL "WHERE")
  const longText = await gql('query { uiapi { query { Lead(where: { Didomi_Consents__c: { eq: "x" } }) { edges { node { Id } } } } } }');
  assert.equal(longText.status, 200);
  assert.match(longText.body.errors[0].message, /WrongType: argument 'where' contains a field not in 'Lead_Filter': 'Didomi_Consents__c'/);
  const tooMany = await gql('query { uiapi { query { Lead(first: 2001) { edges { node { Id } } } } } }');
  assert.match(tooMany.body.errors[0].message, /first/);
  const unauthenticated = await fetch(`${emu.url}/services/data/v66.0/graphql`, { method: 'POST', body: '{}' });
  assert.equal(unauthenticated.status, 401);
});

test('graphql: fragments, aliases and variables with defaults', async () => {
  const [lead, contact] = emu.seed({
    Didomi_Sync_Target__c: [
      { Name: 'G Leads', Object__c: 'Lead', Active__c: true },
      { Name: 'G Contacts', Object__c: 'Contact', Active__c: true },
    ],
  }).Didomi_Sync_Target__c;
  const r = await gql(
    `query t($obj: String = "Lead") { uiapi { query { targets: Didomi_Sync_Target__c(where: { Object__c: { eq: $obj } }) { edges { node { ...T } } } } } }
     fragment T on Didomi_Sync_Target__c { Id obj: Object__c { value } }`,
  );
  assert.deepEqual(r.body.errors, []);
  const nodes = r.body.data.uiapi.query.targets.edges.map((e: any) => e.node);
  assert.ok(
    nodes.some((n: any) => n.Id === lead),
    'the variable default (Lead) selects the Lead target, through the alias "targets"',
  );
  assert.ok(!nodes.some((n: any) => n.Id === contact), 'and only Lead targets');
  assert.deepEqual([...new Set(nodes.map((n: any) => n.obj?.value))], ['Lead'], 'the fragment field, under its alias "obj"');
});

test('graphql connections page alike: first/after, totalCount and pageInfo on record queries and on aggregates; __typename on records only', async () => {
  const codes = ['PAGE_A', 'PAGE_B', 'PAGE_C'];
  emu.seed({ Didomi_Sync_Error__c: codes.map((code) => ({ Status__c: 'Open', Error_Code__c: code, Organization_User_Id__c: `${code}@example.com` })) });
  const where = { Error_Code__c: { in: codes } };
  const page = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;
  const records = `query r($where: Didomi_Sync_Error__c_Filter, $after: String) { uiapi { query {
    Didomi_Sync_Error__c(where: $where, first: 2, after: $after, orderBy: { Error_Code__c: { order: ASC } }) {
      edges { cursor node { Error_Code__c { value } } } ${page} __typename } } } }`;
  const aggregate = (tail: string) => `query a($where: Didomi_Sync_Error__c_Filter, $after: String) { uiapi { aggregate {
    Didomi_Sync_Error__c(where: $where, first: 2, after: $after, groupBy: { Error_Code__c: { group: true } }) {
      edges { cursor node { aggregate { Error_Code__c { value } } } } ${tail} } } } }`;
  const aggregates = aggregate(page);
  const codeOf = { r: (e: any) => e.node.Error_Code__c.value, a: (e: any) => e.node.aggregate.Error_Code__c.value };
  for (const [kind, query, root] of [
    ['r', records, 'query'],
    ['a', aggregates, 'aggregate'],
  ] as const) {
    const first = (await gql(query, { where })).body.data.uiapi[root].Didomi_Sync_Error__c;
    assert.deepEqual(first.edges.map(codeOf[kind]), ['PAGE_A', 'PAGE_B'], kind);
    assert.equal(first.totalCount, 3, kind);
    assert.deepEqual(
      { ...first.pageInfo, startCursor: first.pageInfo.startCursor === first.edges[0].cursor, endCursor: first.pageInfo.endCursor === first.edges[1].cursor },
      { hasNextPage: true, hasPreviousPage: false, startCursor: true, endCursor: true },
      kind,
    );
    const second = (await gql(query, { where, after: first.pageInfo.endCursor })).body.data.uiapi[root].Didomi_Sync_Error__c;
    assert.deepEqual(second.edges.map(codeOf[kind]), ['PAGE_C'], kind);
    assert.equal(second.pageInfo.hasNextPage, false, kind);
    assert.equal(second.pageInfo.hasPreviousPage, true, kind);
  }
  assert.equal((await gql(records, { where })).body.data.uiapi.query.Didomi_Sync_Error__c.__typename, 'Didomi_Sync_Error__cConnection');
  const typename = await gql(aggregate('__typename'), { where });
  assert.match(typename.body.errors[0].message, /Field '__typename' in type 'Didomi_Sync_Error__cAggregateConnection' is undefined/);
});

test('graphql aggregate: dead letters grouped by code with counts, filtered; ungrouped fields and DateTime grouping refused', async () => {
  const codes = { REQUIRED_FIELD_MISSING: 3, UNABLE_TO_LOCK_ROW: 2, A_VERY_LONG_CODE_THAT_MUST_NOT_BE_CUT_OFF_ANYWHERE_IN_THE_QUEUE: 1 };
  for (const [code, n] of Object.entries(codes))
    for (let i = 0; i < n; i++) {
      const r = await c.call('POST', '/ui-api/records', {
        apiName: 'Didomi_Sync_Error__c',
        fields: { Status__c: 'Open', Error_Code__c: code, Target_Object__c: i ? 'Contact' : 'Lead', Organization_User_Id__c: `agg${i}@example.com` },
      });
      assert.equal(r.status, 201);
    }
  const query = `query g($where: Didomi_Sync_Error__c_Filter) { uiapi { aggregate {
    Didomi_Sync_Error__c(where: $where, groupBy: { Error_Code__c: { group: true } }, first: 200) {
      edges { node { aggregate { Error_Code__c { value } Id { count { value } } } } }
      totalCount
    } } } }`;
  const where = { and: [{ Status__c: { eq: 'Open' } }, { Error_Code__c: { in: Object.keys(codes) } }] };
  const r = await gql(query, { where });
  assert.deepEqual(r.body.errors, []);
  const conn = r.body.data.uiapi.aggregate.Didomi_Sync_Error__c;
  assert.deepEqual(
    conn.edges.map((e: any) => [e.node.aggregate.Error_Code__c.value, e.node.aggregate.Id.count.value]),
    [
      ['A_VERY_LONG_CODE_THAT_MUST_NOT_BE_CUT_OFF_ANYWHERE_IN_THE_QUEUE', 1],
      ['REQUIRED_FIELD_MISSING', 3],
      ['UNABLE_TO_LOCK_ROW', 2],
    ],
  );
  assert.equal(conn.totalCount, 3, 'totalCount counts groups');
  const leads = await gql(query, { where: { and: [where, { Target_Object__c: { eq: 'Lead' } }] } });
  assert.deepEqual(
    leads.body.data.uiapi.aggregate.Didomi_Sync_Error__c.edges.map((e: any) => e.node.aggregate.Id.count.value),
    [1, 1, 1],
  );
  const total = await gql(`{ uiapi { aggregate { Didomi_Sync_Error__c(where: { Error_Code__c: { eq: "REQUIRED_FIELD_MISSING" } }) {
    edges { node { aggregate { Id { count { value } } Organization_User_Id__c { countDistinct { value } } } } } } } } }`);
  assert.deepEqual(total.body.data.uiapi.aggregate.Didomi_Sync_Error__c.edges[0].node.aggregate, {
    Id: { count: { value: 3 } },
    Organization_User_Id__c: { countDistinct: { value: 3 } },
  });
  const ungrouped = await gql(`{ uiapi { aggregate { Didomi_Sync_Error__c(groupBy: { Error_Code__c: { group: true } }) {
    edges { node { aggregate { Status__c { value } } } } } } } }`);
  assert.match(ungrouped.body.errors[0].message, /Status__c' must be grouped or aggregated/);
  const byDateTime = await gql(`{ uiapi { aggregate { Didomi_Sync_Error__c(groupBy: { Last_Failed_At__c: { group: true } }) {
    edges { node { aggregate { Id { count { value } } } } } } } } }`);
  assert.match(byDateTime.body.errors[0].message, /can't be grouped/);
  const sumText = await gql(`{ uiapi { aggregate { Didomi_Sync_Error__c { edges { node { aggregate { Error_Code__c { sum { value } } } } } } } } }`);
  assert.match(sumText.body.errors[0].message, /sum does not apply/);
});
