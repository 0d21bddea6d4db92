// The package (force-app) checked offline: the real Salesforce CLI converts it, every metadata file
// is well-formed, fields are as specified, permission sets reference what exists and grant exactly
// what the middleware needs, and the middleware's API names (api-names.ts) match the metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { loadSchema } from '../../emulator/src/schema.ts';
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
  CONSENT_MODEL,
  CONTACT_POINT_TYPES,
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
  'didomiCatalogue',
];
const picklist = (f: any) => (f.valueSet.valueSetDefinition.value as any[]).map((v) => v.fullName);

const SF_RUN = join(ROOT, 'node_modules/@salesforce/cli/bin/run.js');
const SF_ENV = { ...process.env, SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true' };
/** Converts one source folder with the real Salesforce CLI; returns the output folder and a members-by-type lookup. */
const convert = (dir: string) => {
  const out = join(mkdtempSync(join(tmpdir(), 'convert-')), 'mdapi');
  execFileSync(process.execPath, [SF_RUN, 'project', 'convert', 'source', '--root-dir', join(ROOT, dir), '--output-dir', out], {
    cwd: ROOT,
    stdio: 'pipe',
    env: SF_ENV,
  });
  const pkg = xml.parse(readFileSync(join(out, 'package.xml'), 'utf8')).Package;
  return { out, version: pkg.version as string, members: (type: string): string[] => (pkg.types as any[]).find((t) => t.name === type)?.members ?? [] };
};
const ECA_TYPES = ['ExternalClientApplication', 'ExtlClntAppOauthSettings', 'ExtlClntAppOauthConfigurablePolicies', 'ExtlClntAppGlobalOauthSettings'];

test('the Salesforce CLI converts force-app to Metadata API format with every component', () => {
  const { out, version, members } = convert('force-app');
  for (const o of [SYNC_TARGET, FIELD_MAPPING, SYNC_STATUS, SYNC_ERROR, BULK_REQUEST, CATALOGUE])
    assert.ok(members('CustomObject').includes(o.object), o.object);
  for (const o of TARGET_OBJECTS) for (const f of Object.values(RECORD_FIELDS)) assert.ok(members('CustomField').includes(`${o}.${f}`), `${o}.${f}`);
  for (const p of Object.values(PERMISSION_SETS)) assert.ok(members('PermissionSet').includes(p), p);
  for (const t of ECA_TYPES) assert.deepEqual(members(t), [], `${t} is not in the package: a Local External Client App cannot be packaged`);
  assert.ok(members('ListView').includes('Didomi_Sync_Error__c.Open_Errors'));
  assert.deepEqual(members('CustomApplication'), ['Didomi_Consent_Sync']);
  assert.deepEqual(members('CustomTab').sort(), ['Didomi_Consent_Sync_Admin', 'Didomi_Sync_Error__c', 'Didomi_Sync_Status__c', 'Didomi_Sync_Target__c']);
  assert.deepEqual(members('FlexiPage'), ['Didomi_Consent_Sync_Admin']);
  assert.deepEqual(members('LightningComponentBundle').sort(), [...LWC_BUNDLES].sort());
  assert.ok(members('CustomLabel').length >= 50, 'the admin tab labels');
  assert.equal(version, '66.0');
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

test('sfdx-project.json: one unlocked package "Didomi Consent Sync" (force-app), 0.1.0.NEXT, API 66.0; connect/ listed but unpackaged', () => {
  const p = JSON.parse(readFileSync(join(ROOT, 'sfdx-project.json'), 'utf8'));
  assert.deepEqual(
    p.packageDirectories.map((d: any) => d.path),
    ['force-app', 'connect'],
  );
  const [pkg, connect] = p.packageDirectories;
  assert.equal(pkg.package, 'Didomi Consent Sync');
  assert.equal(pkg.versionNumber, '0.1.0.NEXT');
  assert.equal(pkg.default, true);
  for (const k of ['package', 'versionName', 'versionNumber', 'default']) assert.equal(connect[k], undefined, `connect has no ${k}: it is not a package`);
  assert.ok(Number(p.sourceApiVersion) >= 66);
});

test('connect/: the External Client App converts on its own, Local, JWT-ready, admin pre-authorised, with no certificate or consumer key in source', () => {
  const { members } = convert('connect');
  assert.deepEqual(members('ExternalClientApplication'), ['Didomi_Consent_Sync']);
  assert.deepEqual(members('ExtlClntAppOauthSettings'), ['Didomi_Consent_Sync_oauth']);
  assert.deepEqual(members('ExtlClntAppOauthConfigurablePolicies'), ['Didomi_Consent_Sync_oauthPlcy']);
  // Global OAuth settings hold the org's certificate and consumer key: generated per org by scripts/connect-org.sh.
  assert.deepEqual(members('ExtlClntAppGlobalOauthSettings'), []);
  const files = walk(join(ROOT, 'connect')).filter((f) => f.endsWith('-meta.xml'));
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.equal(XMLValidator.validate(text), true, f);
    assert.doesNotMatch(text, /consumerKey|consumerSecret|BEGIN CERTIFICATE|commaSeparatedPermissionSet/, `${f}: nothing org-specific in source`);
  }
  const base = join(ROOT, 'connect/main/default');
  const eca = xml.parse(readFileSync(join(base, 'externalClientApps/Didomi_Consent_Sync.eca-meta.xml'), 'utf8')).ExternalClientApplication;
  assert.equal(eca.distributionState, 'Local');
  const policies = xml.parse(
    readFileSync(join(base, 'extlClntAppOauthPolicies/Didomi_Consent_Sync_oauthPlcy.ecaOauthPlcy-meta.xml'), 'utf8'),
  ).ExtlClntAppOauthConfigurablePolicies;
  assert.equal(policies.permittedUsersPolicyType, 'AdminApprovedPreAuthorized');
  assert.equal(policies.isClientCredentialsFlowEnabled, 'false');
  const script = readFileSync(join(ROOT, 'scripts/connect-org.sh'), 'utf8');
  assert.match(script, /--source-dir connect/, 'connect-org.sh deploys connect/');
  assert.match(script, /ExtlClntAppGlobalOauthSettings:Didomi_Consent_Sync_glbloauth/, 'connect-org.sh reads the consumer key back');
  assert.doesNotMatch(script, /<consumerKey>\$/, 'connect-org.sh never invents a consumer key');
});

test('every metadata file is well-formed XML', () => {
  const files = [...walk(join(ROOT, 'force-app')), ...walk(join(ROOT, 'connect'))].filter((f) => f.endsWith('-meta.xml'));
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

const STANDARD = loadSchema(undefined);

test('permission sets reference only objects and fields that exist; no profile changes', () => {
  assert.ok(!existsSync(join(BASE, 'profiles')));
  const standard = new Set(['Lead', 'Contact', 'Account', 'Individual', 'DataUsePurpose', 'ContactPointTypeConsent']);
  for (const ps of Object.values(PERMISSION_SETS)) {
    const p = permset(ps);
    assert.ok(p.label && p.description);
    for (const op of p.objectPermissions) assert.ok(standard.has(op.object) || existsSync(join(BASE, 'objects', op.object)), `${ps}: ${op.object}`);
    for (const fp of p.fieldPermissions) {
      const [o, f] = String(fp.field).split('.');
      if (!f.endsWith('__c')) {
        // A standard field: one that has field-level security (Object Reference; the emulator's standard schema).
        assert.ok(STANDARD.objects.get(o.toLowerCase())?.fields.get(f.toLowerCase())?.fls, `${ps}: ${fp.field} is a standard field with field-level security`);
        continue;
      }
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

/**
 * Field-level security on standard fields (the Minimum Access - API Only Integrations profile grants
 * none): Email, the default match field, is read by the match query and set on records created in
 * upsert mode; Email Opt Out (HasOptedOutOfEmail) and Do Not Call are the standard consent fields the
 * README documents. All exist on every Lead and Contact and are FLS-controllable (Object Reference for
 * the Salesforce Platform, "Lead" and "Contact": Email, HasOptedOutOfEmail, DoNotCall have Update).
 * Person account fields (PersonEmail, PersonHasOptedOutOfEmail) exist only where person accounts are
 * on, so a package permission set cannot name them: the admin grants them (README).
 */
const STANDARD_GRANTS: Record<string, 'read' | 'edit'> = {
  'Lead.Email': 'edit',
  'Contact.Email': 'edit',
  'Lead.HasOptedOutOfEmail': 'edit',
  'Contact.HasOptedOutOfEmail': 'edit',
  'Lead.DoNotCall': 'edit',
  'Contact.DoNotCall': 'edit',
  // Consent data model (issue 16; Object Reference: Lead, Contact, ContactPointTypeConsent): the link to the
  // Individual and the consent's optional fields. Required ones (Name, PartyId, Individual.LastName) take no FLS.
  'Lead.IndividualId': 'edit',
  'Contact.IndividualId': 'edit',
  'ContactPointTypeConsent.CaptureContactPointType': 'edit',
  'ContactPointTypeConsent.CaptureDate': 'edit',
  'ContactPointTypeConsent.CaptureSource': 'edit',
  'ContactPointTypeConsent.ContactPointType': 'edit',
  'ContactPointTypeConsent.DataUsePurposeId': 'edit',
  'ContactPointTypeConsent.DoubleConsentCaptureDate': 'edit',
  'ContactPointTypeConsent.EffectiveFrom': 'edit',
  'ContactPointTypeConsent.PrivacyConsentStatus': 'edit',
};

test('the integration permission set grants field-level security on the standard match and consent fields, never on person account fields', () => {
  const p = permset(PERMISSION_SETS.integration);
  const granted = new Map<string, any>(p.fieldPermissions.map((f: any) => [f.field, f]));
  assert.equal(granted.size, p.fieldPermissions.length, 'each field granted once (a duplicate fails the deployment)');
  for (const [f, access] of Object.entries(STANDARD_GRANTS)) {
    const fp = granted.get(f);
    assert.equal(fp?.readable, 'true', `${f} readable`);
    assert.equal(fp?.editable, access === 'edit' ? 'true' : 'false', `${f} ${access}`);
  }
  const standard = [...granted.keys()].filter((f) => !f.split('.')[1]!.endsWith('__c'));
  assert.deepEqual(standard.sort(), Object.keys(STANDARD_GRANTS).sort(), 'no other standard field');
  assert.ok(!standard.some((f) => /^Account\.Person/.test(f)), 'no person account field: the package must install where person accounts are off');
  // Salesforce sorts permission set entries by name; keep the file as a retrieve would write it (clean merges).
  const names = p.fieldPermissions.map((f: any) => String(f.field));
  assert.deepEqual(names, [...names].sort(), 'fieldPermissions sorted by field');
  // PermissionSet.description is at most 255 characters (Metadata API Developer Guide, "PermissionSet").
  for (const ps of Object.values(PERMISSION_SETS)) assert.ok(String(permset(ps).description).length <= 255, `${ps} description length`);
});

test('the integration permission set can edit every field the middleware writes, and nothing it does not need', () => {
  const p = permset(PERMISSION_SETS.integration);
  const editable = new Set(p.fieldPermissions.filter((f: any) => f.editable === 'true').map((f: any) => f.field));
  const readable = new Set(p.fieldPermissions.map((f: any) => f.field));
  const writes = [
    ...Object.keys(STANDARD_GRANTS).filter((f) => STANDARD_GRANTS[f] === 'edit'),
    ...TARGET_OBJECTS.flatMap((o) => Object.values(RECORD_FIELDS).map((f) => `${o}.${f}`)),
    ...Object.values(SYNC_STATUS.fields).map((f) => `${SYNC_STATUS.object}.${f}`),
    ...Object.values(SYNC_ERROR.fields)
      .filter((f) => f !== SYNC_ERROR.fields.status)
      .map((f) => `${SYNC_ERROR.object}.${f}`),
    // the standard consent field the package documents: the profile grants no field access, so the package must
    'Contact.HasOptedOutOfEmail',
    'Lead.HasOptedOutOfEmail',
    `${CONSENT_MODEL.individual.object}.${CONSENT_MODEL.individual.fields.userId}`,
    `${CONSENT_MODEL.consent.object}.${CONSENT_MODEL.consent.fields.key}`,
    `${CONSENT_MODEL.purpose.object}.${CONSENT_MODEL.purpose.fields.key}`,
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

/** Every `sf <command> --flag` a script runs or prints, with its command words and long flags. */
const sfCalls = (text: string) => {
  const calls: { command: string[]; flags: string[]; line: string }[] = [];
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'));
  for (const line of lines) {
    for (const m of line.matchAll(/(?:^|[\s(`"'])sf\s+([a-z][a-z-]*(?:\s+[a-z][a-z-]*)*)([^|;&)`]*)/g)) {
      const command = m[1]!.split(/\s+/);
      calls.push({ command, flags: [...m[2]!.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((f) => f[1]!), line: line.trim() });
    }
  }
  return calls;
};

test('every sf command and flag in the scripts and the README exists in the pinned Salesforce CLI (--help)', async () => {
  const sources = [
    ...readdirSync(join(ROOT, 'scripts'))
      .filter((f) => f.endsWith('.sh'))
      .map((f) => join('scripts', f)),
    'README.md',
  ];
  const calls = sources.flatMap((f) => sfCalls(readFileSync(join(ROOT, f), 'utf8')).map((c) => ({ ...c, file: f })));
  const commands = [...new Set(calls.map((c) => c.command.join(' ')))];
  for (const needed of [
    'package version create',
    'package version promote',
    'package install',
    'project deploy start',
    'project retrieve start',
    'org assign permset',
  ]) {
    assert.ok(commands.includes(needed), `the scripts use sf ${needed}`);
  }
  const { execFile } = await import('node:child_process');
  const help = new Map<string, Set<string>>();
  // A few at a time: each help call starts the CLI.
  for (let i = 0; i < commands.length; i += 3) {
    await Promise.all(
      commands.slice(i, i + 3).map(
        (cmd) =>
          new Promise<void>((done, fail) =>
            execFile(process.execPath, [SF_RUN, ...cmd.split(' '), '--help'], { cwd: ROOT, env: SF_ENV, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
              if (err) return fail(new Error(`sf ${cmd} --help failed: the command does not exist in the pinned CLI\n${stderr}`));
              help.set(cmd, new Set([...stdout.matchAll(/--[a-z][a-z0-9-]*/g)].map((f) => f[0])));
              done();
            }),
          ),
      ),
    );
  }
  const missing = calls.flatMap((c) => c.flags.filter((f) => !help.get(c.command.join(' '))!.has(f)).map((f) => `${c.file}: sf ${c.command.join(' ')} ${f}`));
  assert.deepEqual(missing, [], 'flags the pinned CLI does not have');
});

test('Salesforce Code Analyzer (npm run lint) runs its PMD and regex engines and refuses insecure metadata and JavaScript', () => {
  // A planted sample: a remote site over plain HTTP with protocol security off, an old API version and a
  // parseInt without radix. If the engines silently analysed nothing, lint would pass anything.
  const dir = mkdtempSync(join(tmpdir(), 'code-analyzer-'));
  const base = join(dir, 'main/default');
  mkdirSync(join(base, 'remoteSiteSettings'), { recursive: true });
  writeFileSync(
    join(base, 'remoteSiteSettings/Insecure.remoteSite-meta.xml'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<RemoteSiteSetting xmlns="http://soap.sforce.com/2006/04/metadata">\n' +
      '    <disableProtocolSecurity>true</disableProtocolSecurity>\n    <isActive>true</isActive>\n    <url>http://example.com</url>\n</RemoteSiteSetting>\n',
  );
  mkdirSync(join(base, 'lwc/bad'), { recursive: true });
  writeFileSync(join(base, 'lwc/bad/bad.js'), 'export function f(s) {\n  return parseInt(s);\n}\n');
  writeFileSync(
    join(base, 'lwc/bad/bad.js-meta.xml'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">\n    <apiVersion>30.0</apiVersion>\n    <isExposed>false</isExposed>\n</LightningComponentBundle>\n',
  );
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts/code-analyzer.ts'), dir], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  for (const rule of [
    'pmd:AvoidInsecureHttpRemoteSiteSetting',
    'pmd:AvoidDisableProtocolSecurityRemoteSiteSetting',
    'pmd:UseBaseWithParseInt',
    'regex:AvoidOldSalesforceApiVersions',
  ]) {
    assert.match(run.stdout, new RegExp(rule), `${rule} reported`);
  }
});

test('consent data model (issue 16): external ids on Individual and ContactPointTypeConsent, the mapping fields, object access per permission set', () => {
  for (const [o, f] of [
    [CONSENT_MODEL.individual.object, CONSENT_MODEL.individual.fields.userId],
    [CONSENT_MODEL.consent.object, CONSENT_MODEL.consent.fields.key],
  ]) {
    const x = field(o, f);
    assert.deepEqual([x.type, x.length, x.externalId, x.unique], ['Text', '255', 'true', 'true'], `${o}.${f}`);
    assert.ok(x.description && x.inlineHelpText);
  }
  assert.deepEqual(customFields(CONSENT_MODEL.individual.object), [CONSENT_MODEL.individual.fields.userId], 'no other field on Individual');
  assert.deepEqual(customFields(CONSENT_MODEL.consent.object), [CONSENT_MODEL.consent.fields.key]);
  const channel = field(FIELD_MAPPING.object, FIELD_MAPPING.fields.contactPointType);
  assert.equal(channel.valueSet.restricted, 'true');
  assert.deepEqual(picklist(channel), [...CONTACT_POINT_TYPES]);
  assert.equal(field(FIELD_MAPPING.object, FIELD_MAPPING.fields.dataUsePurpose).type, 'Text');
  const objects = (ps: string) => new Map<string, any>(permset(ps).objectPermissions.map((op: any) => [op.object, op]));
  const integration = objects(PERMISSION_SETS.integration);
  const admin = objects(PERMISSION_SETS.admin);
  for (const o of ['Individual', 'DataUsePurpose', 'ContactPointTypeConsent']) {
    const i = integration.get(o);
    assert.deepEqual([i?.allowRead, i?.allowCreate, i?.allowEdit, i?.allowDelete], ['true', 'true', 'true', 'false'], `integration on ${o}`);
    const a = admin.get(o);
    assert.deepEqual([a?.allowRead, a?.allowCreate, a?.allowEdit], ['true', 'false', 'false'], `admin reads ${o}`);
  }
  const ip = new Map<string, any>(permset(PERMISSION_SETS.integration).fieldPermissions.map((f: any) => [f.field, f]));
  for (const f of [`Individual.${CONSENT_MODEL.individual.fields.userId}`, `ContactPointTypeConsent.${CONSENT_MODEL.consent.fields.key}`])
    assert.equal(ip.get(f)?.editable, 'true', f);
  const scratch = JSON.parse(readFileSync(join(ROOT, 'config/project-scratch-def.json'), 'utf8'));
  // Metadata API Developer Guide, "PartyDataModelSettings": the Individual object and consent enablement.
  assert.equal(scratch.settings.partyDataModelSettings?.enableConsentManagement, true, 'the scratch org enables the consent data model');
  // The package adds fields to Individual and ContactPointTypeConsent, so the org that builds a package
  // version needs them too (Salesforce DX Developer Guide, "Project Configuration File": definitionFile).
  const project = JSON.parse(readFileSync(join(ROOT, 'sfdx-project.json'), 'utf8'));
  assert.equal(project.packageDirectories[0].definitionFile, 'config/project-scratch-def.json');
});
