// The install scripts (connect-org.sh, package-version.sh, scratch-org-setup.sh) against a recording
// stand-in for the Salesforce CLI (no org is reachable here): what they deploy (converted by the real,
// pinned CLI), which commands they run in which order, and what they print. The stand-in answers like
// `sf ... --json` does; its log is the proof. test/package/metadata.test.ts checks every flag they use
// against the pinned CLI's --help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SF_RUN = join(ROOT, 'node_modules/@salesforce/cli/bin/run.js');
const PS_ID = '0PS5g000000AbCdGAK';
const KEY = '3MVG9testConsumerKey.from.the.org';
const SECRET = 'THE-CONSUMER-SECRET-0123456789';

interface Org {
  unreachable?: boolean;
  permissionSet?: boolean;
  userLicense?: string | null;
  retrieveKey?: boolean;
  sandbox?: boolean;
}

/** Writes the stand-in `sf`; returns its folder (log.jsonl, deployed/, mdapi/). */
function standIn(org: Org): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-sf-'));
  const program = `#!${process.execPath}
const fs = require('node:fs'), path = require('node:path'), { execFileSync } = require('node:child_process');
const dir = ${JSON.stringify(dir)}, org = ${JSON.stringify(org)};
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'log.jsonl'), JSON.stringify({ args, cwd: process.cwd() }) + '\\n');
const flag = (f) => args[args.indexOf(f) + 1];
const out = (result) => console.log(JSON.stringify({ status: 0, result }));
const cmd = args.slice(0, Math.max(0, args.findIndex((a) => a.startsWith('-')))).join(' ');
if (args[0] === '--version') console.log('@salesforce/cli/2 (stand-in)');
else if (org.unreachable) { console.log(JSON.stringify({ status: 1, name: 'NamedOrgNotFoundError' })); process.exit(1); }
else if (cmd.startsWith('data query')) {
  const q = flag('--query');
  if (/FROM PermissionSet/.test(q)) { if (!org.permissionSet) { out({ records: [] }); process.exit(0); } out({ records: [{ Id: ${JSON.stringify(PS_ID)} }] }); }
  else if (/FROM User/.test(q)) out({ records: org.userLicense === null ? [] : [{ Profile: { UserLicense: { Name: org.userLicense } } }] });
  else if (/FROM Organization/.test(q)) out({ records: [{ IsSandbox: !!org.sandbox }] });
  else process.exit(1);
} else if (cmd === 'project deploy start') {
  const suffix = flag('--source-dir') === 'connect' ? '' : '-' + flag('--source-dir'); // the CDC selection deploys on its own
  fs.cpSync(path.join(process.cwd(), flag('--source-dir')), path.join(dir, 'deployed' + suffix), { recursive: true });
  execFileSync(process.execPath, [${JSON.stringify(SF_RUN)}, 'project', 'convert', 'source', '--root-dir', flag('--source-dir'), '--output-dir', path.join(dir, 'mdapi' + suffix)], { stdio: 'ignore' });
} else if (cmd === 'project retrieve start') {
  if (!org.retrieveKey) process.exit(1);
  const d = path.join(flag('--output-dir'), 'main/default/extlClntAppGlobalOauthSets');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'Didomi_Consent_Sync_glbloauth.ecaGlblOauth-meta.xml'),
    '<?xml version="1.0" encoding="UTF-8"?>\\n<ExtlClntAppGlobalOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">\\n' +
    '    <consumerKey>${KEY}</consumerKey>\\n    <consumerSecret>${SECRET}</consumerSecret>\\n</ExtlClntAppGlobalOauthSettings>\\n');
  fs.writeFileSync(path.join(dir, 'retrieved-to'), flag('--output-dir'));
} else if (cmd === 'org display') out({ instanceUrl: 'https://acme--uat.sandbox.my.salesforce.com', username: 'admin@acme.com' });
else if (cmd === 'package create') out({ Id: '0Ho5g000000AbCdCAK' });
else if (cmd === 'package version create') out({ SubscriberPackageVersionId: '04t5g000000AbCdAAK' });
else if (cmd === 'package version promote' || cmd === 'package install' || cmd === 'org create scratch') out({ success: true });
else if (cmd.startsWith('org assign')) out([]);
else process.exit(3);
`;
  writeFileSync(join(dir, 'sf'), program);
  chmodSync(join(dir, 'sf'), 0o755);
  return dir;
}

const commandOf = (args: string[]) =>
  args
    .slice(
      0,
      Math.max(
        0,
        args.findIndex((x) => x.startsWith('-')),
      ),
    )
    .join(' ');
const flagOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
const readLog = (fake: string) =>
  existsSync(join(fake, 'log.jsonl'))
    ? readFileSync(join(fake, 'log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).args as string[])
    : [];
const runScript = (fake: string, script: string, args: string[]) =>
  spawnSync('bash', [join(ROOT, 'scripts', script), ...args], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, SF_CLI: join(fake, 'sf'), SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true' },
  });

function connect(org: Org, user = 'didomi-sync@acme.com') {
  const fake = standIn(org);
  const keys = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys');
  const run = spawnSync('bash', [join(ROOT, 'scripts/connect-org.sh'), '-o', 'prod', '-u', user, '-k', keys], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, SF_CLI: join(fake, 'sf'), SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true' },
  });
  const log = existsSync(join(fake, 'log.jsonl'))
    ? readFileSync(join(fake, 'log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).args as string[])
    : [];
  return { run, log, fake, keys, output: run.stdout + run.stderr };
}

test("connect-org.sh deploys connect/ with this org's certificate and permission set Id, no consumer key, and the real CLI converts it", () => {
  const { run, fake, keys } = connect({ permissionSet: true, userLicense: 'Salesforce Integration', retrieveKey: true });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const base = join(fake, 'deployed/main/default');
  const global = readFileSync(join(base, 'extlClntAppGlobalOauthSets/Didomi_Consent_Sync_glbloauth.ecaGlblOauth-meta.xml'), 'utf8');
  const certificate = readFileSync(join(keys, 'server.crt'), 'utf8').trim();
  assert.ok(global.includes(certificate), 'the certificate generated into -k keys is the app certificate (JWT bearer flow on)');
  assert.doesNotMatch(global, /consumerKey|consumerSecret/, 'Salesforce generates the consumer key; the script never invents one');
  const policies = readFileSync(join(base, 'extlClntAppOauthPolicies/Didomi_Consent_Sync_oauthPlcy.ecaOauthPlcy-meta.xml'), 'utf8');
  assert.match(policies, new RegExp(`<commaSeparatedPermissionSet>${PS_ID}</commaSeparatedPermissionSet>`));
  assert.match(policies, /<permittedUsersPolicyType>AdminApprovedPreAuthorized<\/permittedUsersPolicyType>/);
  // The real CLI reads what was deployed: every External Client App component, under the names Salesforce expects.
  const pkg = readFileSync(join(fake, 'mdapi/package.xml'), 'utf8');
  for (const member of ['Didomi_Consent_Sync', 'Didomi_Consent_Sync_oauth', 'Didomi_Consent_Sync_oauthPlcy', 'Didomi_Consent_Sync_glbloauth']) {
    assert.match(pkg, new RegExp(`<members>${member}</members>`), member);
  }
  assert.match(pkg, /<name>ExtlClntAppGlobalOauthSettings<\/name>/);
  assert.ok(readdirSync(join(fake, 'mdapi')).includes('extlClntAppGlobalOauthSets'));
  // Lead, Contact and Account selected for Change Data Capture (PlatformEventChannelMember on ChangeEvents), in a deploy of their own.
  const cdc = readFileSync(join(fake, 'mdapi-cdc/package.xml'), 'utf8');
  for (const o of ['Lead', 'Contact', 'Account']) assert.match(cdc, new RegExp(`<members>ChangeEvents_${o}ChangeEvent</members>`));
  assert.match(cdc, /<name>PlatformEventChannelMember<\/name>/);
  assert.doesNotMatch(pkg, /PlatformEventChannelMember/, 'a full CDC allowance cannot fail the app deploy');
  assert.match(run.stdout, /REVERSE_MODE=cdc/);
});

test('connect-org.sh assigns the API Integration permission set licence before the permission set, reads the consumer key back and prints SF_* without the secret', () => {
  const { run, log, fake, keys } = connect({ permissionSet: true, userLicense: 'Salesforce Integration', retrieveKey: true, sandbox: true });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const commands = log.map((a) =>
    a
      .slice(
        0,
        Math.max(
          0,
          a.findIndex((x) => x.startsWith('-')),
        ),
      )
      .join(' '),
  );
  const psl = commands.indexOf('org assign permsetlicense');
  const ps = commands.indexOf('org assign permset');
  assert.ok(psl >= 0 && ps > psl, `permission set licence first, then the permission set: ${commands.join(' | ')}`);
  assert.deepEqual(log[psl]!.slice(log[psl]!.indexOf('--name'), log[psl]!.indexOf('--name') + 4), [
    '--name',
    'SalesforceAPIIntegrationPsl',
    '--on-behalf-of',
    'didomi-sync@acme.com',
  ]);
  assert.deepEqual(log[ps]!.slice(log[ps]!.indexOf('--name'), log[ps]!.indexOf('--name') + 4), [
    '--name',
    'Didomi_Sync_Integration',
    '--on-behalf-of',
    'didomi-sync@acme.com',
  ]);
  assert.match(run.stdout, new RegExp(`SF_CLIENT_ID=${KEY.replace(/\./g, '\\.')}\\n`));
  assert.match(run.stdout, /SF_LOGIN_URL=https:\/\/acme--uat\.sandbox\.my\.salesforce\.com\n/);
  assert.match(run.stdout, /SF_AUDIENCE=https:\/\/test\.salesforce\.com\n/, 'a sandbox authenticates with aud test.salesforce.com');
  assert.match(run.stdout, /SF_USERNAME=didomi-sync@acme\.com\n/);
  assert.ok(run.stdout.includes(`SF_PRIVATE_KEY_FILE=${join(keys, 'server.key')}`));
  assert.ok(!(run.stdout + run.stderr).includes(SECRET), 'the consumer secret is never printed');
  assert.ok(!existsSync(readFileSync(join(fake, 'retrieved-to'), 'utf8')), 'the retrieved settings (with the secret) are deleted');
});

test('connect-org.sh: where the org does not return the key, it says where in Setup to read it; a production org gets aud login.salesforce.com', () => {
  const { run, log } = connect({ permissionSet: true, userLicense: 'Salesforce', retrieveKey: false });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /External Client App Manager > Didomi Consent Sync > Settings tab > OAuth Settings > Consumer Key and Secret/);
  assert.match(run.stdout, /SF_CLIENT_ID=<consumer key from Setup, see above>/);
  assert.match(run.stdout, /SF_AUDIENCE=https:\/\/login\.salesforce\.com\n/);
  assert.ok(!log.some((a) => a.includes('permsetlicense')), 'a full Salesforce user needs no integration permission set licence');
});

test('connect-org.sh refuses an org it cannot reach, an org without the package, or an unknown user, before deploying anything; the username is escaped in SOQL', () => {
  const unreachable = connect({ unreachable: true });
  assert.equal(unreachable.run.status, 1);
  assert.match(unreachable.output, /cannot reach org 'prod': log in first/);
  assert.ok(!unreachable.log.some((a) => a.includes('deploy')), 'nothing deployed');

  const noPackage = connect({ permissionSet: false, userLicense: 'Salesforce Integration' });
  assert.equal(noPackage.run.status, 1);
  assert.match(noPackage.output, /install the package first/);
  assert.ok(!noPackage.log.some((a) => a.includes('deploy')), 'nothing deployed');

  const noUser = connect({ permissionSet: true, userLicense: null }, "o'brien@acme.com");
  assert.equal(noUser.run.status, 1);
  assert.match(noUser.output, /no user 'o'brien@acme.com'/);
  assert.ok(!noUser.log.some((a) => a.includes('deploy')), 'nothing deployed for an unknown user');
  const userQuery = noUser.log.find((a) => a.some((x) => /FROM User/.test(x)))!;
  assert.ok(userQuery.includes("SELECT Profile.UserLicense.Name FROM User WHERE Username = 'o\\'brien@acme.com'"), userQuery.join(' '));
});

test('connect-org.sh and scratch-org-setup.sh: usage errors exit 2 without calling the CLI', () => {
  for (const script of ['connect-org.sh', 'scratch-org-setup.sh']) {
    const r = spawnSync('bash', [join(ROOT, 'scripts', script)], { encoding: 'utf8' });
    assert.equal(r.status, 2, script);
    assert.match(r.stderr, /usage:/);
  }
  const bad = spawnSync('bash', [join(ROOT, 'scripts/scratch-org-setup.sh'), '-v', 'hub', '-p', 'not-an-id'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /package version id \(04t/);
});

test('package-version.sh -P creates a validated version with --code-coverage, then promotes that very 04t; -r promotes a given one', () => {
  const fake = standIn({});
  const run = runScript(fake, 'package-version.sh', ['-v', 'devhub', '-P']);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const log = readLog(fake);
  const create = log.find((a) => commandOf(a) === 'package version create')!;
  assert.ok(create.includes('--code-coverage'), 'code coverage computed: required to promote');
  assert.ok(!create.includes('--skip-validation'), 'validated: required to promote');
  assert.equal(flagOf(create, '--package'), 'Didomi Consent Sync');
  assert.equal(flagOf(create, '--target-dev-hub'), 'devhub');
  const promote = log.find((a) => commandOf(a) === 'package version promote')!;
  assert.equal(flagOf(promote, '--package'), '04t5g000000AbCdAAK', 'the version just created');
  assert.ok(log.indexOf(promote) > log.indexOf(create));
  assert.match(run.stdout, /package install --package 04t5g000000AbCdAAK/);

  const beta = standIn({});
  const b = runScript(beta, 'package-version.sh', ['-v', 'devhub']);
  assert.equal(b.status, 0, b.stdout + b.stderr);
  assert.ok(!readLog(beta).some((a) => commandOf(a) === 'package version promote'), 'no promotion without -P');
  assert.match(b.stdout, /Beta: installs in scratch orgs and sandboxes only; promote it with: .* -r 04t5g000000AbCdAAK/);

  const release = standIn({});
  const r = runScript(release, 'package-version.sh', ['-v', 'devhub', '-r', '04t5g000000ZyXwAAC']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.deepEqual(
    readLog(release)
      .filter((a) => commandOf(a) !== '')
      .map(commandOf),
    ['package version promote'],
  );
  assert.equal(
    flagOf(
      readLog(release).find((a) => commandOf(a) === 'package version promote')!,
      '--package',
    ),
    '04t5g000000ZyXwAAC',
  );
});

test('scratch-org-setup.sh -p installs the package version, then connects the org, and prints the admin tab (not the app) URL', () => {
  const fake = standIn({ permissionSet: true, userLicense: 'Salesforce', retrieveKey: true, sandbox: true });
  const keys = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys');
  const run = runScript(fake, 'scratch-org-setup.sh', ['-v', 'devhub', '-a', 'dss', '-p', '04t5g000000AbCdAAK', '-k', keys]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const commands = readLog(fake).map(commandOf).filter(Boolean);
  assert.deepEqual(commands.slice(0, 3), ['org create scratch', 'package install', 'org assign permset']);
  assert.ok(
    !commands.includes('project deploy start') || commands.indexOf('project deploy start') > commands.indexOf('package install'),
    'no source deploy of force-app',
  );
  assert.ok(commands.includes('project retrieve start'), 'connect-org.sh ran');
  assert.match(run.stdout, new RegExp(`SF_CLIENT_ID=${KEY.replace(/\./g, '\\.')}`));
  const tab = /--path lightning\/n\/(\w+)/.exec(run.stdout)?.[1];
  assert.ok(tab && existsSync(join(ROOT, 'force-app/main/default/tabs', `${tab}.tab-meta.xml`)), `lightning/n/${tab} is a tab of the package`);
  assert.match(readFileSync(join(ROOT, 'force-app/main/default/tabs', `${tab}.tab-meta.xml`), 'utf8'), /<flexiPage>Didomi_Consent_Sync_Admin<\/flexiPage>/);
});
