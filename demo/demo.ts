// npm run demo: the whole product on embedded defaults (SQLite and the org emulator), no org and
// no configuration needed. Seeds a small realistic org, runs the middleware, posts a scripted story
// of real-shaped Didomi webhooks, and shows every affected record before and after.
//   --once   exit after the report: 0 only if every expected field value was reached
import { parseArgs } from 'node:util';
import { CONSUMER_KEY, startStack, type Stack } from '../test/support/stack.ts';
import { startPreview } from '../preview/serve.ts';
import { eventCreated, userDeleted, userUpdated } from '../test/support/didomi-events.ts';
import { PURPOSE, PHONE_PURPOSE, PREFERENCE, VALUE_WEEKLY, VALUE_OFFERS, VALUE_LABELS } from '../test/support/org-fixture.ts';

const { values: args } = parseArgs({ options: { once: { type: 'boolean', default: false } } });
const tty = process.stdout.isTTY;
const c = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

console.log(c(1, 'Didomi Consent Sync: demo on the org emulator and SQLite\n'));
const stack: Stack = await startStack({
  env: { BATCH_WAIT_MS: '200', HEARTBEAT_MS: '1000', CONFIG_REFRESH_MS: '1000', LOG_LEVEL: 'silent' },
  seed: { leadUpsert: true, leadDeletion: 'Clear Consent Fields', account: true, consentModel: true },
});
const emu = stack.emu;

// ---- a small, realistic org: a few hundred records, shared emails, a converted lead, a person account ----
const first = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Henry', 'Iris', 'Jules', 'Karim', 'Lea', 'Marc', 'Nora', 'Omar', 'Paula'];
const companies = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay'];
emu.seed({
  Lead: Array.from({ length: 300 }, (_, i) => ({ FirstName: first[i % 16], LastName: `Lead${i}`, Company: companies[i % 6], Email: `lead${i}@example.com` })),
  Contact: Array.from({ length: 200 }, (_, i) => ({
    FirstName: first[(i + 3) % 16],
    LastName: `Contact${i}`,
    Email: i % 10 === 0 ? `lead${i}@example.com` : `contact${i}@example.com`,
  })),
  Account: Array.from({ length: 100 }, (_, i) => ({ Name: `${companies[i % 6]} ${i}` })),
});
emu.seed({
  Lead: [
    { FirstName: 'Alice', LastName: 'Martin', Company: 'Acme', Email: 'alice@example.com' },
    { FirstName: 'Bob', LastName: 'Durand', Company: 'Globex', Email: 'bob@example.com' },
    { FirstName: 'Carol', LastName: 'Petit', Company: 'Initech', Email: 'carol@example.com' },
    { FirstName: 'Dave', LastName: "O'Neil", Company: 'Hooli', Email: "dave.o'neil@example.com" },
    { FirstName: 'Erin', LastName: 'Moreau', Company: 'Umbrella', Email: 'erin@example.com' },
    { FirstName: 'Frank', LastName: 'Roux', Company: 'Vandelay', Email: 'frank@example.com' },
    { FirstName: 'Grace', LastName: 'Blanc', Company: 'Acme', Email: 'grace@example.com' },
    { FirstName: 'Henry', LastName: 'Leroy', Company: 'Globex', Email: 'henry@example.com', IsConverted: true },
  ],
  Contact: [
    { FirstName: 'Alice', LastName: 'Martin', Email: 'ALICE@example.com' },
    { FirstName: 'Henry', LastName: 'Leroy', Email: 'henry@example.com' },
  ],
  Account: [{ Name: 'Iris Lambert', PersonEmail: 'iris@example.com', IsPersonAccount: true }],
});
// The org's own validation rule rejects Grace's record: a permanent failure for the error queue.
await emu.setFaults({
  validationRules: [{ sobject: 'Lead', field: 'Email', value: 'grace@example.com', message: 'Marketing preferences of this lead are locked by Legal' }],
});

const FIELDS = [
  'HasOptedOutOfEmail',
  'PersonHasOptedOutOfEmail',
  'DoNotCall',
  'Newsletter_Topics__c',
  'Weekly_Digest__c',
  'Marketing_Consent_CPRA__c',
  'Didomi_User_Id__c',
];
interface Expect {
  object: string;
  email: string;
  label: string;
  fields: Record<string, unknown>;
  note: string;
}
const expected: Expect[] = [
  {
    object: 'Lead',
    email: 'new.customer@example.com',
    label: 'new user, upsert',
    note: 'no record matched: created once by external-id upsert',
    fields: {
      HasOptedOutOfEmail: false,
      Newsletter_Topics__c: `${VALUE_LABELS[VALUE_OFFERS]};${VALUE_LABELS[VALUE_WEEKLY]}`,
      Weekly_Digest__c: true,
      Company: 'Unknown (Didomi)',
    },
  },
  {
    object: 'Lead',
    email: 'alice@example.com',
    label: 'consent given',
    note: 'Lead and Contact share the email: both updated',
    fields: { HasOptedOutOfEmail: false, DoNotCall: false },
  },
  { object: 'Contact', email: 'alice@example.com', label: 'consent given', note: 'matched case-insensitively', fields: { HasOptedOutOfEmail: false } },
  {
    object: 'Lead',
    email: 'bob@example.com',
    label: 'consent withdrawn',
    note: 'given, then withdrawn: opt-out (inverted) is true',
    fields: { HasOptedOutOfEmail: true },
  },
  {
    object: 'Lead',
    email: 'carol@example.com',
    label: 'preference changed',
    note: 'weekly digest -> offers only',
    fields: { Newsletter_Topics__c: VALUE_LABELS[VALUE_OFFERS], Weekly_Digest__c: false },
  },
  {
    object: 'Lead',
    email: "dave.o'neil@example.com",
    label: 'out-of-order duplicate',
    note: 'newest wins whatever the arrival order; quote in the email',
    fields: { HasOptedOutOfEmail: true },
  },
  {
    object: 'Lead',
    email: 'erin@example.com',
    label: 'CPRA event',
    note: 'CPRA refusal lands only in the CPRA field',
    fields: { HasOptedOutOfEmail: false, Marketing_Consent_CPRA__c: false },
  },
  {
    object: 'Lead',
    email: 'frank@example.com',
    label: 'user deleted',
    note: 'Clear Consent Fields writes no-consent values: opt-outs (inverted) true, the rest empty',
    fields: { HasOptedOutOfEmail: true, DoNotCall: true, Newsletter_Topics__c: null, Weekly_Digest__c: false, Didomi_Consents__c: null },
  },
  {
    object: 'Lead',
    email: 'grace@example.com',
    label: 'permanent failure',
    note: 'validation rule: dead letter in Didomi_Sync_Error__c',
    fields: { HasOptedOutOfEmail: false, Didomi_User_Id__c: null },
  },
  {
    object: 'Lead',
    email: 'henry@example.com',
    label: 'converted lead',
    note: 'converted Lead: a match, never written, never duplicated (upsert on) ...',
    fields: { DoNotCall: false, Didomi_User_Id__c: null },
  },
  { object: 'Contact', email: 'henry@example.com', label: 'converted lead', note: '... its Contact is updated', fields: { HasOptedOutOfEmail: true } },
  {
    object: 'Account',
    email: 'iris@example.com',
    label: 'person account',
    note: 'Account target matched on PersonEmail',
    fields: { PersonHasOptedOutOfEmail: true, Didomi_User_Id__c: 'iris@example.com' },
  },
];

const find = async (e: Expect) =>
  (await stack.records(e.object)).find(
    (r) =>
      String(r.Email ?? r.PersonEmail ?? '').toLowerCase() === e.email.toLowerCase() &&
      (e.object !== 'Lead' || e.email !== 'henry@example.com' || r.IsConverted),
  );
const before = new Map<Expect, any>();
for (const e of expected) before.set(e, await find(e));

// ---- the story, posted like Didomi: client-credentials token, then webhooks ----
const t = (min: number) => new Date(Date.parse('2026-11-20T09:00:00Z') + min * 60_000);
const givenAll = { purposes: { [PURPOSE]: true, [PHONE_PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY, VALUE_OFFERS] } };
const dupe = eventCreated("dave.o'neil@example.com", t(30), { purposes: { [PURPOSE]: false } });
const webhooks: unknown[] = [
  eventCreated('new.customer@example.com', t(1), givenAll),
  eventCreated('alice@example.com', t(2), givenAll),
  eventCreated('bob@example.com', t(3), givenAll),
  eventCreated('bob@example.com', t(9), { purposes: { [PURPOSE]: false } }),
  eventCreated('carol@example.com', t(4), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_WEEKLY] } }),
  userUpdated('carol@example.com', t(12), { purposes: { [PURPOSE]: true }, preferences: { [PREFERENCE]: [VALUE_OFFERS] } }, 2),
  dupe,
  eventCreated("dave.o'neil@example.com", t(5), { purposes: { [PURPOSE]: true } }),
  JSON.parse(JSON.stringify(dupe)),
  eventCreated('erin@example.com', t(6), { purposes: { [PURPOSE]: true } }),
  eventCreated('erin@example.com', t(7), { purposes: { [PURPOSE]: false } }, { regulation: 'cpra' }),
  eventCreated('frank@example.com', t(8), givenAll),
  userDeleted('frank@example.com', t(20)),
  eventCreated('grace@example.com', t(10), { purposes: { [PURPOSE]: false } }),
  eventCreated('henry@example.com', t(11), { purposes: { [PURPOSE]: false } }),
  eventCreated('iris@example.com', t(13), { purposes: { [PURPOSE]: false } }),
];
const callsBefore = emu.stats().apiCalls.total;
const token = await stack.token();
let accepted = 0,
  duplicates = 0;
for (const w of webhooks) {
  const r = await stack.post(w, token);
  if (r.status !== 202) throw new Error(`webhook refused: ${r.status} ${JSON.stringify(r.body)}`);
  accepted++;
  if (r.body.duplicate) duplicates++;
}
console.log(`Posted ${accepted} Didomi webhooks to ${stack.url}/webhooks/didomi (${duplicates} redelivery acknowledged and ignored)`);

// ---- wait for the sync, with a progress indicator ----
const spinner = ['|', '/', '-', '\\'];
const check = async () => {
  const rows = [];
  for (const e of expected) {
    const rec = await find(e);
    const ok = !!rec && Object.entries(e.fields).every(([f, v]) => (rec[f] ?? null) === v);
    rows.push({ e, rec, ok });
  }
  const errors = (await stack.records('Didomi_Sync_Error__c')).filter((x) => x.Error_Code__c === 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
  // Upsert mode is on for Leads: Henry's converted Lead must not get a second, unconverted Lead.
  const henryLeads = (await stack.records('Lead')).filter((r) => String(r.Email).toLowerCase() === 'henry@example.com').length;
  const model = await consentModel('alice@example.com');
  const modelOk =
    !!model.individual &&
    model.linked === 2 &&
    model.consents.find((x) => x.purpose === 'Marketing' && x.channel === 'Email')?.status === 'OptIn' &&
    (await consentModel('bob@example.com')).consents.find((x) => x.purpose === 'Marketing' && x.channel === 'Email')?.status === 'OptOut';
  return { rows, errors, henryLeads, model, modelOk, done: rows.every((r) => r.ok) && errors.length === 1 && henryLeads === 1 && modelOk };
};
/** A person's Individual, how many of their records point at it, and their ContactPointTypeConsent records (issue 16). */
async function consentModel(email: string) {
  const individual = (await stack.records('Individual')).find((i) => i.Didomi_User_Id__c === email);
  const purposes = new Map((await stack.records('DataUsePurpose')).map((p) => [p.Id, p.Name]));
  const people = [...(await stack.records('Lead')), ...(await stack.records('Contact'))];
  const consents = individual
    ? (await stack.records('ContactPointTypeConsent'))
        .filter((x) => x.PartyId === individual.Id)
        .map((x) => ({ purpose: purposes.get(x.DataUsePurposeId), channel: x.ContactPointType, status: x.PrivacyConsentStatus, at: x.CaptureDate }))
    : [];
  return { individual, linked: individual ? people.filter((r) => r.IndividualId === individual.Id).length : 0, consents };
}
const started = Date.now();
let result = await check();
for (let i = 0; !result.done && Date.now() - started < 120_000; i++) {
  // the bound only ends a broken run: a busy machine makes the sync slower, never different
  if (tty) process.stdout.write(`\r${spinner[i % 4]} syncing... ${result.rows.filter((r) => r.ok).length}/${expected.length} records as expected`);
  await sleep(100);
  result = await check();
}
if (tty) process.stdout.write('\r' + ' '.repeat(60) + '\r');
const ms = Date.now() - started;

// ---- the report ----
const show = (v: unknown) => (v === undefined || v === null ? '-' : v === true ? 'true' : v === false ? 'false' : String(v));
console.log(`\n${c(1, 'Story')}                     ${c(1, 'Record')}                                   ${c(1, 'Field: before -> after')}`);
for (const { e, rec, ok } of result.rows) {
  const b = before.get(e);
  const name = `${e.object} ${rec?.Name ?? rec?.LastName ?? '(none)'} <${e.email}>`;
  const changes = [...new Set([...Object.keys(e.fields), ...FIELDS])]
    .filter((f) => f in e.fields || show(b?.[f]) !== show(rec?.[f]))
    .map((f) => `${f}: ${show(b?.[f])} -> ${show(rec?.[f])}`);
  console.log(`${ok ? c(32, 'OK  ') : c(31, 'FAIL')} ${e.label.padEnd(22)} ${name.padEnd(40).slice(0, 40)} ${changes[0] ?? ''}`);
  for (const ch of changes.slice(1)) console.log(`${' '.repeat(68)} ${ch}`);
  console.log(`${' '.repeat(27)}${c(2, e.note)}`);
}
console.log(
  `${result.henryLeads === 1 ? c(32, 'OK  ') : c(31, 'FAIL')} converted lead: ${result.henryLeads} Lead(s) with henry@example.com (upsert mode created no duplicate)`,
);
const m = result.model;
console.log(
  `${result.modelOk ? c(32, 'OK  ') : c(31, 'FAIL')} consent model: alice@example.com -> Individual ${m.individual?.Id ?? '(none)'}, linked from ${m.linked} records (Lead, Contact)`,
);
for (const x of [...m.consents].sort((a, b) => `${a.purpose}${a.channel}`.localeCompare(`${b.purpose}${b.channel}`)))
  console.log(`${' '.repeat(27)}ContactPointTypeConsent ${x.purpose} / ${x.channel}: ${x.status} (CaptureDate ${x.at}, CaptureSource Didomi)`);
const err = result.errors[0];
console.log(
  `\nError queue (Didomi_Sync_Error__c): ${result.errors.length} open${err ? `: ${err.Name} ${err.Error_Code__c} for ${err.Organization_User_Id__c}: "${err.Message__c}"` : ''}`,
);
const stats = emu.stats();
console.log(
  `Salesforce API calls: ${stats.apiCalls.total - callsBefore} for ${accepted} webhooks (${JSON.stringify(stats.apiCalls.byResource)} since start, including heartbeats and configuration reads); synced in ${ms} ms`,
);
console.log(`\nMiddleware:      ${stack.url}  (metrics: ${stack.url}/metrics, health: ${stack.url}/healthz)`);
console.log(`Org emulator:    ${emu.url}  (records: ${emu.url}/__emulator/records/Lead, stats: ${emu.url}/__emulator/stats)`);

if (args.once) {
  await stack.close();
  if (!result.done) {
    console.error(
      c(
        31,
        `\n${result.rows.filter((r) => !r.ok).length} record(s) did not reach the expected values; ${result.henryLeads} Lead(s) for the converted lead; consent model ${result.modelOk ? 'ok' : 'not reached'}`,
      ),
    );
    process.exit(1);
  }
  console.log(c(32, `\nAll ${expected.length} expected records reached their values.`));
  process.exit(0);
}
// The admin tab on this very org (a ~15 s build): what an admin would see in Lightning Experience.
console.log(c(2, 'Building the admin tab preview (about 15 s)...'));
const preview = await startPreview({
  port: Number(process.env.PREVIEW_PORT ?? 0),
  emulator: emu,
  privateKey: stack.env.SF_PRIVATE_KEY,
  consumerKey: CONSUMER_KEY,
}).catch((e: Error) => (console.log(`Admin tab preview could not start: ${e.message}`), null));
if (preview)
  console.log(`Admin tab:       ${preview.url}  (the LWC admin tab on this org: status, targets and mappings, the error queue with Grace's dead letter)`);
console.log(`\nTry it: get a token and send your own webhook (Ctrl-C to stop):
  TOKEN=$(curl -s -X POST ${stack.url}/oauth/token -d grant_type=client_credentials -d client_id=didomi-webhooks -d client_secret=didomi-client-secret-0123456789 | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s -X POST ${stack.url}/webhooks/didomi -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"type":"event.created","parameters":{"entity":{"id":"ev-1","created_at":"${new Date().toISOString()}","regulation":"gdpr","user":{"organization_user_id":"lead1@example.com"},"consents":{"purposes":[{"id":"${PURPOSE}","enabled":false}]}}}}'
  curl -s ${emu.url}/__emulator/records/Lead | grep -o '"Email":"lead1@example.com"[^}]*'`);
const stop = async () => {
  await preview?.close();
  await stack.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
