// The package (force-app) checked offline: the real Salesforce CLI converts it, every metadata file
// is well-formed, fields are as specified, permission sets reference what exists and grant exactly
// what the middleware needs, and the middleware's API names (api-names.ts) match the metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  RECORD_FIELDS,
  SYNC_TARGET,
  FIELD_MAPPING,
  SYNC_STATUS,
  SYNC_ERROR,
  BULK_REQUEST,
  CATALOGUE,
  BULK_ACTIONS,
  BULK_REQUEST_STATUSES,
  TARGET_OBJECTS,
  MAPPING_KINDS,
  ERROR_STATUSES,
  DELETION_BEHAVIORS,
  PERMISSION_SETS,
} from '../../middleware/src/salesforce/api-names.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BASE = join(ROOT, 'force-app/main/default');
const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (n) => ['value', 'fieldPermissions', 'objectPermissions', 'tabSettings', 'columns', 'filters', 'members', 'types'].includes(n),
});
const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
const field = (obj: string, name: string) => xml.parse(readFileSync(join(BASE, 'objects', obj, 'fields', `${name}.field-meta.xml`), 'utf8')).CustomField;
const customFields = (obj: string) =>
  existsSync(join(BASE, 'objects', obj, 'fields')) ? readdirSync(join(BASE, 'objects', obj, 'fields')).map((f) => f.replace('.field-meta.xml', '')) : [];
const permset = (name: string) => xml.parse(readFileSync(join(BASE, 'permissionsets', `${name}.permissionset-meta.xml`), 'utf8')).PermissionSet;
const LWC_BUNDLES = [
  'didomiSyncAdmin',
  'didomiSyncStatus',
  'didomiSyncTargets',
  'didomiMappingEditor',
  'didomiErrorQueue',
  'didomiConfigImport',
  'didomiSyncRules',
  'didomiSyncLabels',
];
const picklist = (f: any) => (f.valueSet.valueSetDefinition.value as any[]).map((v) => v.fullName);

test('the Salesforce CLI converts force-app to Metadata API format with every component', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'convert-')), 'mdapi');
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/@salesforce/cli/bin/run.js'), 'project', 'convert', 'source', '--root-dir', join(ROOT, 'force-app'), '--output-dir', out],
    { cwd: ROOT, stdio: 'pipe', env: { ...process.env, SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true' } },
  );
  const pkg = xml.parse(readFileSync(join(out, 'package.xml'), 'utf8')).Package;
  const members = (type: string) => (pkg.types as any[]).find((t) => t.name === type)?.members ?? [];
  for (const o of [SYNC_TARGET, FIELD_MAPPING, SYNC_STATUS, SYNC_ERROR, BULK_REQUEST, CATALOGUE])
    assert.ok(members('CustomObject').includes(o.object), o.object);
  for (const o of TARGET_OBJECTS) for (const f of Object.values(RECORD_FIELDS)) assert.ok(members('CustomField').includes(`${o}.${f}`), `${o}.${f}`);
  for (const p of Object.values(PERMISSION_SETS)) assert.ok(members('PermissionSet').includes(p), p);
  assert.deepEqual(members('ExternalClientApplication'), ['Didomi_Consent_Sync']);
  assert.deepEqual(members('ExtlClntAppOauthSettings'), ['Didomi_Consent_Sync_oauth']);
  assert.deepEqual(members('ExtlClntAppOauthConfigurablePolicies'), ['Didomi_Consent_Sync_oauthPlcy']);
  assert.ok(members('ListView').includes('Didomi_Sync_Error__c.Open_Errors'));
  assert.deepEqual(members('CustomApplication'), ['Didomi_Consent_Sync']);
  assert.deepEqual(members('CustomTab').sort(), ['Didomi_Consent_Sync_Admin', 'Didomi_Sync_Error__c', 'Didomi_Sync_Status__c', 'Didomi_Sync_Target__c']);
  assert.deepEqual(members('FlexiPage'), ['Didomi_Consent_Sync_Admin']);
  assert.deepEqual(members('LightningComponentBundle').sort(), [...LWC_BUNDLES].sort());
  assert.ok(members('CustomLabel').length >= 50, 'the admin tab labels');
  assert.equal(pkg.version, '66.0');
  // The deployed bundles hold the compiled JavaScript; TypeScript sources and Jest tests stay out (.forceignore).
  for (const b of LWC_BUNDLES) {
    const files = readdirSync(join(out, 'lwc', b));
    assert.ok(files.includes(`${b}.js`), `${b}.js is deployed (npm run build:lwc)`);
    assert.ok(!files.some((f) => f.endsWith('.ts') || f === '__tests__'), `${b}: no .ts or tests in the deployment: ${files}`);
  }
});

test('the admin tab: a Lightning page tab in the app, shown by the admin permission set, with every label defined', () => {
  const tab = xml.parse(readFileSync(join(BASE, 'tabs/Didomi_Consent_Sync_Admin.tab-meta.xml'), 'utf8')).CustomTab;
  assert.equal(tab.flexiPage, 'Didomi_Consent_Sync_Admin');
  const page = xml.parse(readFileSync(join(BASE, 'flexipages/Didomi_Consent_Sync_Admin.flexipage-meta.xml'), 'utf8')).FlexiPage;
  assert.equal(page.type, 'AppPage');
  assert.equal(page.flexiPageRegions.itemInstances.componentInstance.componentName, 'c:didomiSyncAdmin');
  const meta = xml.parse(readFileSync(join(BASE, 'lwc/didomiSyncAdmin/didomiSyncAdmin.js-meta.xml'), 'utf8')).LightningComponentBundle;
  assert.equal(meta.isExposed, 'true');
  assert.ok([meta.targets.target].flat().includes('lightning__AppPage'));
  const app = xml.parse(readFileSync(join(BASE, 'applications/Didomi_Consent_Sync.app-meta.xml'), 'utf8')).CustomApplication;
  assert.equal([app.tabs].flat()[0], 'Didomi_Consent_Sync_Admin', 'the admin tab opens first');
  const shown = (permset('Didomi_Sync_Admin').tabSettings as any[]).find((t) => t.tab === 'Didomi_Consent_Sync_Admin');
  assert.equal(shown?.visibility, 'Visible');
  assert.equal(permset('Didomi_Sync_Integration').tabSettings, undefined, 'the integration user sees no tab');

  const defined = new Set(
    [xml.parse(readFileSync(join(BASE, 'labels/CustomLabels.labels-meta.xml'), 'utf8')).CustomLabels.labels].flat().map((l: any) => l.fullName),
  );
  const sources = LWC_BUNDLES.map((b) => readFileSync(join(BASE, 'lwc', b, `${b}.ts`), 'utf8')).join('\n');
  const used = new Set([...sources.matchAll(/@salesforce\/label\/c\.(\w+)/g)].map((m) => m[1]));
  assert.deepEqual(
    [...used].filter((l) => !defined.has(l)),
    [],
    'labels imported but not defined',
  );
  assert.deepEqual(
    [...defined].filter((l) => !used.has(l)),
    [],
    'labels defined but never imported',
  );
  // No Apex anywhere: the tab reads and writes through Lightning Data Service only.
  assert.ok(!existsSync(join(BASE, 'classes')));
  assert.doesNotMatch(sources, /@salesforce\/apex/);
});

test('sfdx-project.json: one unlocked package "Didomi Consent Sync", 0.1.0.NEXT, API 66.0', () => {
  const p = JSON.parse(readFileSync(join(ROOT, 'sfdx-project.json'), 'utf8'));
  assert.equal(p.packageDirectories.length, 1);
  assert.equal(p.packageDirectories[0].path, 'force-app');
  assert.equal(p.packageDirectories[0].package, 'Didomi Consent Sync');
  assert.equal(p.packageDirectories[0].versionNumber, '0.1.0.NEXT');
  assert.ok(Number(p.sourceApiVersion) >= 66);
});

test('every metadata file is well-formed XML', () => {
  const files = walk(join(ROOT, 'force-app')).filter((f) => f.endsWith('-meta.xml'));
  assert.ok(files.length > 50);
  for (const f of files) assert.equal(XMLValidator.validate(readFileSync(f, 'utf8')), true, f);
});

test('record fields on Lead, Contact and Account: types, lengths, external id, unique, case-insensitive, help text', () => {
  for (const o of TARGET_OBJECTS) {
    const id = field(o, RECORD_FIELDS.userId);
    assert.deepEqual([id.type, id.length, id.externalId, id.unique, id.caseSensitive], ['Text', '255', 'true', 'true', 'false'], o);
    assert.equal(field(o, RECORD_FIELDS.updatedAt).type, 'DateTime');
    assert.equal(field(o, RECORD_FIELDS.snapshot).type, 'LongTextArea');
    for (const f of Object.values(RECORD_FIELDS)) {
      assert.ok(field(o, f).description && field(o, f).inlineHelpText, `${o}.${f} has a description and help text`);
    }
  }
});

test('config objects: restricted picklists with the closed value sets, master-detail mapping, defaults', () => {
  const obj = field(SYNC_TARGET.object, SYNC_TARGET.fields.targetObject);
  assert.equal(obj.valueSet.restricted, 'true');
  assert.deepEqual(picklist(obj), [...TARGET_OBJECTS]);
  assert.deepEqual(picklist(field(SYNC_TARGET.object, SYNC_TARGET.fields.deletionBehavior)), [...DELETION_BEHAVIORS]);
  const kind = field(FIELD_MAPPING.object, FIELD_MAPPING.fields.kind);
  assert.equal(kind.valueSet.restricted, 'true');
  assert.deepEqual(picklist(kind), [...MAPPING_KINDS]);
  const status = field(SYNC_ERROR.object, SYNC_ERROR.fields.status);
  assert.equal(status.valueSet.restricted, 'true');
  assert.deepEqual(picklist(status), [...ERROR_STATUSES]);
  assert.equal((status.valueSet.valueSetDefinition.value as any[]).find((v) => v.default === 'true').fullName, 'Open');
  const md = field(FIELD_MAPPING.object, FIELD_MAPPING.fields.target);
  assert.deepEqual([md.type, md.referenceTo], ['MasterDetail', SYNC_TARGET.object]);
  assert.equal(field(FIELD_MAPPING.object, FIELD_MAPPING.fields.regulation).defaultValue, '"gdpr"');
  assert.equal(field(SYNC_TARGET.object, SYNC_TARGET.fields.matchField).defaultValue, '"Email"');
  for (const [o, f] of [
    [SYNC_STATUS.object, SYNC_STATUS.fields.instanceId],
    [SYNC_ERROR.object, SYNC_ERROR.fields.key],
  ]) {
    assert.deepEqual([field(o, f).externalId, field(o, f).unique], ['true', 'true'], `${o}.${f}`);
  }
  for (const o of [SYNC_TARGET.object, FIELD_MAPPING.object, SYNC_STATUS.object, SYNC_ERROR.object]) {
    const meta = xml.parse(readFileSync(join(BASE, 'objects', o, `${o}.object-meta.xml`), 'utf8')).CustomObject;
    assert.ok(meta.description, `${o} description`);
    assert.ok(existsSync(join(BASE, 'objects', o, 'listViews')), `${o} has list views`);
  }
});

test('api-names.ts and force-app agree both ways (no drift)', () => {
  const expectations: [string, Record<string, string>][] = [
    [SYNC_TARGET.object, SYNC_TARGET.fields],
    [FIELD_MAPPING.object, FIELD_MAPPING.fields],
    [SYNC_STATUS.object, SYNC_STATUS.fields],
    [SYNC_ERROR.object, SYNC_ERROR.fields],
    [BULK_REQUEST.object, BULK_REQUEST.fields],
    [CATALOGUE.object, CATALOGUE.fields],
    ...TARGET_OBJECTS.map((o) => [o, RECORD_FIELDS] as [string, Record<string, string>]),
  ];
  for (const [obj, fields] of expectations) {
    const named = new Set(Object.values(fields));
    const defined = new Set(customFields(obj));
    for (const f of named) assert.ok(defined.has(f), `${obj}.${f} named in api-names.ts but missing in force-app`);
    for (const f of defined) assert.ok(named.has(f), `${obj}.${f} defined in force-app but not in api-names.ts`);
  }
});

test('permission sets reference only objects and fields that exist; no profile changes', () => {
  assert.ok(!existsSync(join(BASE, 'profiles')));
  const standard = new Set(['Lead', 'Contact', 'Account']);
  for (const ps of Object.values(PERMISSION_SETS)) {
    const p = permset(ps);
    assert.ok(p.label && p.description);
    for (const op of p.objectPermissions) assert.ok(standard.has(op.object) || existsSync(join(BASE, 'objects', op.object)), `${ps}: ${op.object}`);
    for (const fp of p.fieldPermissions) {
      const [o, f] = String(fp.field).split('.');
      assert.ok(customFields(o).includes(f), `${ps}: ${fp.field} exists`);
      const x = field(o, f);
      assert.ok(x.required !== 'true' && x.type !== 'MasterDetail', `${ps}: no field permission on required ${fp.field}`);
    }
  }
  const admin = permset(PERMISSION_SETS.admin);
  const app = xml.parse(readFileSync(join(BASE, 'applications', 'Didomi_Consent_Sync.app-meta.xml'), 'utf8')).CustomApplication;
  assert.equal(app.label, 'Didomi Consent Sync');
  for (const tab of [SYNC_TARGET.object, SYNC_ERROR.object, SYNC_STATUS.object]) {
    assert.ok(existsSync(join(BASE, 'tabs', `${tab}.tab-meta.xml`)), `${tab} tab exists`);
    assert.ok(
      admin.tabSettings.some((t: any) => t.tab === tab && t.visibility === 'Visible'),
      `${tab} tab visible to admins`,
    );
  }
  for (const t of admin.tabSettings) assert.ok(existsSync(join(BASE, 'tabs', `${t.tab}.tab-meta.xml`)), `tab ${t.tab} exists`);
  assert.ok(admin.applicationVisibilities.visible === 'true' && admin.applicationVisibilities.application === 'Didomi_Consent_Sync');
});

test('the integration permission set can edit every field the middleware writes, and nothing it does not need', () => {
  const p = permset(PERMISSION_SETS.integration);
  const editable = new Set(p.fieldPermissions.filter((f: any) => f.editable === 'true').map((f: any) => f.field));
  const readable = new Set(p.fieldPermissions.map((f: any) => f.field));
  const writes = [
    ...TARGET_OBJECTS.flatMap((o) => Object.values(RECORD_FIELDS).map((f) => `${o}.${f}`)),
    ...Object.values(SYNC_STATUS.fields).map((f) => `${SYNC_STATUS.object}.${f}`),
    ...Object.values(SYNC_ERROR.fields)
      .filter((f) => f !== SYNC_ERROR.fields.status)
      .map((f) => `${SYNC_ERROR.object}.${f}`),
    ...[BULK_REQUEST.fields.affected, BULK_REQUEST.fields.processedAt, BULK_REQUEST.fields.message].map((f) => `${BULK_REQUEST.object}.${f}`),
    ...Object.values(CATALOGUE.fields)
      .filter((f) => f !== CATALOGUE.fields.kind)
      .map((f) => `${CATALOGUE.object}.${f}`),
  ];
  for (const f of writes) assert.ok(editable.has(f), `integration can edit ${f}`);
  assert.deepEqual(
    [...editable].filter((f) => !writes.includes(f as string)),
    [],
    'no edit beyond what the middleware writes',
  );
  for (const f of [...Object.values(SYNC_TARGET.fields), ...Object.values(FIELD_MAPPING.fields)]) {
    const obj = Object.values(SYNC_TARGET.fields).includes(f as never) ? SYNC_TARGET.object : FIELD_MAPPING.object;
    const x = field(obj, f);
    if (x.required === 'true' || x.type === 'MasterDetail') continue;
    assert.ok(readable.has(`${obj}.${f}`) && !editable.has(`${obj}.${f}`), `integration reads but never edits ${obj}.${f}`);
  }
  const objects = Object.fromEntries(p.objectPermissions.map((o: any) => [o.object, o]));
  assert.equal(objects[SYNC_TARGET.object].allowEdit, 'false');
  assert.equal(objects[FIELD_MAPPING.object].allowEdit, 'false');
  for (const o of Object.values(objects) as any[]) assert.equal(o.allowDelete, 'false', `${o.object}: no delete`);
  assert.equal(objects[SYNC_ERROR.object].allowCreate, 'true');
  assert.deepEqual([objects[BULK_REQUEST.object].allowRead, objects[BULK_REQUEST.object].allowEdit], ['true', 'true'], 'reads and closes bulk requests');
});

test('bulk requests: admins create them, the middleware closes them; closed picklists with their defaults', () => {
  const pick = (f: string) => field(BULK_REQUEST.object, f);
  assert.deepEqual(picklist(pick(BULK_REQUEST.fields.action)), Object.keys(BULK_ACTIONS));
  assert.deepEqual(picklist(pick(BULK_REQUEST.fields.status)), [...BULK_REQUEST_STATUSES]);
  assert.deepEqual(
    picklist(pick(BULK_REQUEST.fields.fromStatus)),
    ERROR_STATUSES.filter((s) => s !== 'Resolved'),
  );
  for (const [f, def] of [
    [BULK_REQUEST.fields.status, 'Pending'],
    [BULK_REQUEST.fields.fromStatus, 'Open'],
  ]) {
    assert.equal(pick(f).valueSet.restricted, 'true');
    assert.equal((pick(f).valueSet.valueSetDefinition.value as any[]).find((v) => v.default === 'true').fullName, def, `${f} default`);
  }
  const admin = Object.fromEntries(permset(PERMISSION_SETS.admin).objectPermissions.map((o: any) => [o.object, o]));
  assert.deepEqual([admin[BULK_REQUEST.object].allowCreate, admin[BULK_REQUEST.object].allowEdit], ['true', 'false'], 'admins create, never edit, a request');
  assert.ok(
    permset(PERMISSION_SETS.admin).fieldPermissions.some(
      (f: any) => f.field === `${BULK_REQUEST.object}.${BULK_REQUEST.fields.targetObject}` && f.editable === 'true',
    ),
  );
});

test('scripts: bash -n and shellcheck pass, strict mode everywhere', () => {
  const scripts = readdirSync(join(ROOT, 'scripts'))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => join(ROOT, 'scripts', f));
  assert.ok(scripts.length >= 3);
  for (const s of scripts) {
    execFileSync('bash', ['-n', s]);
    assert.match(readFileSync(s, 'utf8'), /set -euo pipefail/, s);
  }
  execFileSync('shellcheck', scripts, { stdio: 'pipe' });
});
