// The admin tab end to end in a real browser: the compiled components in Debian's Chromium (driven
// by playwright-core, never a downloaded browser) against a seeded org emulator, checking in the
// emulator that what the admin did changed the records; then against a running middleware, whose
// dead letter the admin sends back through the tab. Screenshots go to results/screenshots/.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPreview, type Preview } from '../../preview/serve.ts';
import { ROOT, buildPreview } from '../../preview/build.ts';
import { startStack, CONSUMER_KEY, type Stack } from '../support/stack.ts';
import { eventCreated } from '../support/didomi-events.ts';
import { waitFor } from '../support/wait-for.ts';
import { PURPOSE, PHONE_PURPOSE, PREFERENCE, VALUE_WEEKLY, VALUE_OFFERS, VALUE_EVENTS } from '../support/org-fixture.ts';
import { startDidomiApiStub, type DidomiApiStub } from '../support/didomi-api.ts';

const SHOTS = join(ROOT, 'results/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let preview: Preview;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await buildPreview();
  // Flags from shared/reference/lwc-local-preview.md: without them Chromium stalls on this closed network
  // (playwright gives each launch a fresh, temporary profile).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

async function openPage(url: string) {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
}

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `admin-${name}.png`), fullPage: true });
const records = (sobject: string) => [...preview.emulator.org.table(sobject).rows.values()];

async function choose(label: string, option: string | RegExp) {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option }).first().click();
}

describe('on a seeded org', () => {
  before(async () => {
    preview = await startPreview({ build: false });
    await openPage(preview.url);
  });
  after(async () => {
    await page?.close();
    await preview?.close();
  });

  test('status: the seeded heartbeat shows the middleware alive with today’s counters', async () => {
    await page.getByText('Alive', { exact: true }).waitFor();
    await page.getByText('18,190').waitFor();
    await page.getByText('1,312 of 100,000 calls in the last 24 hours').waitFor();
    await page.getByText('48 open dead letter(s)').waitFor();
    assert.match(await page.locator('[data-id="oldest-pending"]').innerText(), /Oldest event waiting: 1 s/);
    assert.equal(await page.locator('[data-id="counts-as-of"]').count(), 0, 'fresh counts need no date');
    await shot('status');
  });

  test('targets: an upsert target without creation defaults is refused, then created', async () => {
    await page.getByRole('tab', { name: 'Targets and mappings' }).click();
    await page.locator('tr[data-object="Contact"]').waitFor();
    await page.getByRole('button', { name: 'New target' }).click();
    await choose('Object', 'Lead');
    await page.locator('[data-id="target-form"]').getByText('Create records for unknown users (upsert)').click();
    await page.locator('[data-id="save-target"] button').click();
    const refusal = page.locator('[data-id="form-error"]');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /give a default for the required fields Company, LastName\.$/);
    assert.equal(records('Didomi_Sync_Target__c').length, 1, 'nothing saved yet');

    await page.getByLabel('Creation defaults (JSON)').fill('{"Company": "Unknown", "LastName": "Unknown"}');
    await page.locator('[data-id="save-target"] button').click();
    await page.locator('tr[data-object="Lead"]').waitFor();
    const lead = records('Didomi_Sync_Target__c').find((r) => r.Object__c === 'Lead');
    assert.ok(lead, 'the Lead target is in the org');
    assert.equal(lead.Upsert_Mode__c, true);
    assert.equal(lead.Active__c, true);
    assert.equal(lead.Match_Field__c, 'Email');
    assert.equal(lead.Creation_Defaults__c, '{"Company": "Unknown", "LastName": "Unknown"}');
  });

  test('mappings: a text field is refused for a purpose, a checkbox is saved', async () => {
    await page.locator('tr[data-object="Lead"]').getByRole('button', { name: 'Mappings' }).click();
    await page.getByText('Field mappings for Lead').waitFor();
    await choose('Kind', 'Preference');
    await page.getByLabel('Purpose id').fill('newsletter');
    await page.getByLabel('Preference id').fill('country');
    await choose('Salesforce field', /Consent Country/);
    await choose('Kind', 'Purpose');
    await page.locator('[data-id="save-mapping"] button').click();
    const refusal = page.locator('c-didomi-mapping-editor [data-id="form-error"]');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /Consent Country \(Consent_Country__c\) is a text field: a Purpose mapping can only write checkbox/);
    await shot('mapping-refused');
    const leadTarget = records('Didomi_Sync_Target__c').find((r) => r.Object__c === 'Lead')!;
    assert.equal(records('Didomi_Field_Mapping__c').filter((m) => m.Target__c === leadTarget.Id).length, 0, 'the refused mapping was not saved');

    await choose('Salesforce field', /Weekly Digest/);
    await page.locator('[data-id="save-mapping"] button').click();
    await page.locator('c-didomi-mapping-editor tr[data-field="Weekly_Digest__c"]').waitFor();
    const saved = records('Didomi_Field_Mapping__c').filter((m) => m.Target__c === leadTarget.Id);
    assert.equal(saved.length, 1);
    assert.equal(saved[0].Kind__c, 'Purpose');
    assert.equal(saved[0].Purpose_Id__c, 'newsletter');
    assert.equal(saved[0].Preference_Id__c, null, 'a purpose keeps no preference id');
    assert.equal(saved[0].Field_Api_Name__c, 'Weekly_Digest__c');
    await shot('targets');
  });

  test('mappings: a Consent Model mapping asks for a data use purpose and a channel instead of a field, and is saved', async () => {
    await choose('Kind', 'Consent Model');
    assert.equal(await page.getByRole('combobox', { name: 'Salesforce field', exact: true }).count(), 0, 'no field to pick');
    await page.getByLabel('Purpose id').fill('marketing');
    await page.getByLabel('Data use purpose (name)').fill('Marketing');
    await choose('Contact point type', 'Phone');
    await page.locator('[data-id="save-mapping"] button').click();
    await page.locator('c-didomi-mapping-editor tr[data-field="IndividualId"]').waitFor();
    const leadTarget = records('Didomi_Sync_Target__c').find((r) => r.Object__c === 'Lead')!;
    const saved = records('Didomi_Field_Mapping__c').find((m) => m.Target__c === leadTarget.Id && m.Kind__c === 'Consent Model');
    assert.ok(saved, 'saved in the org');
    assert.deepEqual(
      [saved.Purpose_Id__c, saved.Data_Use_Purpose__c, saved.Contact_Point_Type__c, saved.Field_Api_Name__c],
      ['marketing', 'Marketing', 'Phone', 'IndividualId'],
    );
  });

  test('mappings: a deactivated mapping shows as inactive and reopens unticked, so the next save keeps it off', async () => {
    const row = page.locator('c-didomi-mapping-editor tr[data-field="Weekly_Digest__c"]');
    await row.getByRole('button', { name: /^Edit/ }).click();
    const form = page.locator('c-didomi-mapping-editor [data-id="mapping-form"]');
    const active = form.getByLabel('Active', { exact: true });
    assert.equal(await active.isChecked(), true);
    await form.getByText('Active', { exact: true }).click();
    assert.equal(await active.isChecked(), false);
    await page.locator('[data-id="save-mapping"] button').click();
    const saved = () => records('Didomi_Field_Mapping__c').find((m) => m.Field_Api_Name__c === 'Weekly_Digest__c')!;
    await waitFor('the mapping saved inactive', () => saved().Active__c === false);
    await row.getByText('Inactive').waitFor();
    await row.getByRole('button', { name: /^Edit/ }).click();
    assert.equal(await active.isChecked(), false, 'reopened unticked');
    await page.locator('[data-id="save-mapping"] button').click();
    await row.getByText('Inactive').waitFor();
    assert.equal(saved().Active__c, false, 'a save without touching Active keeps it off');
  });

  /**
   * Leaves `field` (a required, empty input: its "Complete this field." appears on blur) by pressing the
   * mouse on Save, as an admin does, and returns how far Save moved between mousedown and mouseup. The
   * blur happens on mousedown, so if the message pushes Save down the mouseup lands beside it and the
   * click is lost.
   */
  async function clickSaveLeaving(form: ReturnType<Page['locator']>, field: ReturnType<Page['locator']>, save: ReturnType<Page['locator']>) {
    await field.focus();
    const before = (await save.boundingBox())!;
    await page.mouse.move(before.x + before.width / 2, before.y + before.height / 2);
    await page.mouse.down();
    await form.getByText('Complete this field.').first().waitFor();
    const during = (await save.boundingBox())!;
    await page.mouse.up();
    return during.y - before.y;
  }

  test('mappings: one mouse click on Save right after leaving an empty required field is not lost (nothing moves under the pointer)', async () => {
    const form = page.locator('c-didomi-mapping-editor [data-id="mapping-form"]');
    await choose('Kind', 'Purpose');
    const purpose = form.getByLabel('Purpose id');
    await purpose.fill('');
    const moved = await clickSaveLeaving(form, purpose, page.locator('[data-id="save-mapping"] button'));
    // under a pixel (layout rounding, 0.5 px measured); without the kept room it moved 18 px
    assert.ok(Math.abs(moved) < 1, `Save stays where the pointer is when the field message appears (moved ${moved} px)`);
    const refusal = page.locator('c-didomi-mapping-editor [data-id="form-error"]');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /purpose/i);
    await shot('mapping-blur-message');
  });

  test('targets: one mouse click on Save right after leaving an empty required default is not lost (nothing moves under the pointer)', async () => {
    await page.getByRole('button', { name: 'New target' }).click();
    const form = page.locator('[data-id="target-form"]');
    await choose('Object', 'Account');
    await form.getByText('Create records for unknown users (upsert)').click();
    const required = form.locator('lightning-input[data-default] input').first();
    await required.waitFor();
    const moved = await clickSaveLeaving(form, required, page.locator('[data-id="save-target"] button'));
    // under a pixel (layout rounding, 0.5 px measured); without the kept room it moved 18 px
    assert.ok(Math.abs(moved) < 1, `Save stays where the pointer is when the field message appears (moved ${moved} px)`);
    const refusal = page.locator('[data-id="target-form"] [data-id="form-error"]');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /default for the required field/);
    assert.equal(records('Didomi_Sync_Target__c').filter((r) => r.Object__c === 'Account').length, 0, 'nothing saved');
    await form.getByRole('button', { name: 'Cancel' }).click();
  });

  test('targets and mappings at 800 px: each table stays inside its card', async () => {
    await page.setViewportSize({ width: 800, height: 900 });
    for (const card of ['c-didomi-sync-targets article.slds-card', 'c-didomi-mapping-editor article.slds-card']) {
      const spill = await page
        .locator(card)
        .first()
        .evaluate((a) => a.scrollWidth - a.clientWidth);
      assert.ok(spill <= 1, `nothing spills out of ${card} at 800 px (${spill} px)`);
    }
    await shot('targets-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test("targets: Didomi's connector configuration is imported, each field checked first, refusals listed", async () => {
    const config = {
      type_id: 'sf-sales-cloud',
      authentication: { url: 'https://acme.my.salesforce.com', client_id: 'cid', client_secret: 'never-stored' },
      properties: { sobject: ['Lead'] },
      mappings: [
        { id: 'Marketing_Consent_CPRA__c', value: 'consents_purposes_analytics_enabled' },
        { id: 'HasOptedOutOfEmail', value: 'consents_purposes_marketing_enabled' },
        { id: 'Weekly_Digest__c', value: 'consents_purposes_offers_enabled' },
        { id: 'Consent_Country__c', value: 'consents_purposes_country_enabled' },
        { id: 'City', value: 'tFyHkpl', type: 'pmp-widget-id' },
      ],
      upsert_mode: true,
    };
    const before = records('Didomi_Field_Mapping__c').length;
    await page.getByRole('tab', { name: 'Targets and mappings' }).click();
    await page.getByLabel('Connector configuration (JSON)').fill(JSON.stringify(config, null, 2));
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    const rows = page.locator('[data-id="import-rows"] tbody tr');
    await rows.first().waitFor();
    const results = await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll('td')[3].textContent));
    assert.deepEqual(results.slice(0, 2), ['Ready to import', 'Ready to import (inverted: an opt-out field is true when consent is refused)']);
    assert.match(results[2]!, /Weekly Digest is already written by another mapping of this target/);
    assert.match(results[3]!, /Consent Country \(Consent_Country__c\) is a text field: a Purpose mapping can only write checkbox/);
    assert.match(results[4]!, /A widget id \(tFyHkpl\) names a Didomi widget/);
    assert.match(await page.locator('[data-id="import-target"]').innerText(), /The Lead target exists: the mappings are added to it/);
    await shot('import-checked');
    await page.getByRole('button', { name: 'Import 2 mapping(s)' }).click();
    await page.locator('[data-id="import-done"]').waitFor();
    const leadTarget = records('Didomi_Sync_Target__c').find((r) => r.Object__c === 'Lead')!;
    const added = records('Didomi_Field_Mapping__c').slice(before);
    assert.deepEqual(
      added.map((m) => [m.Target__c, m.Kind__c, m.Purpose_Id__c, m.Field_Api_Name__c, m.Invert__c]),
      [
        [leadTarget.Id, 'Purpose', 'analytics', 'Marketing_Consent_CPRA__c', false],
        [leadTarget.Id, 'Purpose', 'marketing', 'HasOptedOutOfEmail', true],
      ],
    );
    assert.ok(!JSON.stringify(records('Didomi_Sync_Target__c')).includes('never-stored'), 'credentials are not stored');
  });

  test('error queue: counts per code with whole codes, a selection kept across pages, details, search', async () => {
    await page.getByRole('tab', { name: 'Error queue' }).click();
    await page.getByText('48 dead letter(s)').waitFor();
    const byCode = page.locator('[data-id="by-code"] tbody tr');
    await byCode.first().waitFor();
    assert.deepEqual(
      await byCode.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-code'), tr.querySelector('[data-id="code-count"]')!.textContent])),
      [
        ['FIELD_CUSTOM_VALIDATION_EXCEPTION', '45'],
        ['INVALID_EMAIL_ADDRESS', '1'],
        ['REQUIRED_FIELD_MISSING', '1'],
        ['STRING_TOO_LONG', '1'],
      ],
    );
    // the longest code is shown whole, in the counts and in the table
    const code = page.locator('[data-id="by-code"] [data-code="FIELD_CUSTOM_VALIDATION_EXCEPTION"] [data-id="show-code"] button');
    assert.equal(await code.innerText(), 'FIELD_CUSTOM_VALIDATION_EXCEPTION');
    assert.ok(await code.evaluate((b) => b.scrollWidth <= b.clientWidth + 1), 'the code is not cut off');

    const rowOf = (text: string) => page.locator('lightning-datatable tbody tr', { hasText: text });
    await rowOf('max@example.com').locator('input[type="checkbox"]').check({ force: true });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2 of 3').waitFor();
    await rowOf('lead20@example.com').locator('input[type="checkbox"]').check({ force: true });
    await page.getByText('2 selected across pages').waitFor();
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByText('Page 1 of 3').waitFor();
    assert.equal(await rowOf('max@example.com').locator('input[type="checkbox"]').isChecked(), true, 'the first page keeps its selection');
    await page.getByRole('button', { name: 'Request retry' }).click();
    await page.getByText('46 dead letter(s)').waitFor();
    const retried = records('Didomi_Sync_Error__c').filter((r) => r.Status__c === 'Retry Requested');
    assert.deepEqual(retried.map((r) => r.Organization_User_Id__c).sort(), ['lead20@example.com', 'max@example.com']);

    await page.getByRole('searchbox', { name: 'Didomi user' }).fill('lead7@');
    await page.getByText('1 dead letter(s)').waitFor();
    await rowOf('lead7@example.com')
      .locator('button', { hasText: /Show actions|Show Actions/ })
      .click();
    await page.getByRole('menuitem', { name: 'Show details' }).click();
    const payload = page.locator('[data-id="detail-payload"]');
    await payload.waitFor();
    assert.equal(JSON.parse(await payload.innerText()).HasOptedOutOfEmail, true);
    assert.equal(await page.locator('[data-id="detail-message"]').innerText(), 'Marketing preferences of this lead are locked by Legal');
    await shot('error-details');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText('46 dead letter(s)').waitFor();
  });

  test('error queue: "dismiss all" of a code for Lead becomes one bulk request for the middleware', async () => {
    await choose('Object', 'Lead');
    const row = page.locator('[data-id="by-code"] tr[data-code="FIELD_CUSTOM_VALIDATION_EXCEPTION"]');
    await row.getByRole('button', { name: 'Dismiss all 29' }).click();
    const confirm = page.locator('[data-id="confirm"]');
    assert.match(await confirm.innerText(), /Dismiss all 29 dead letters with code FIELD_CUSTOM_VALIDATION_EXCEPTION \(status Open, object Lead\)/);
    assert.equal(records('Didomi_Sync_Bulk_Request__c').length, 0, 'nothing before the confirmation');
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('[data-id="pending"]').waitFor();
    const requests = records('Didomi_Sync_Bulk_Request__c');
    assert.equal(requests.length, 1);
    assert.deepEqual(
      [requests[0].Action__c, requests[0].Error_Code__c, requests[0].From_Status__c, requests[0].Target_Object__c, requests[0].Status__c],
      ['Dismiss', 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Open', 'Lead', 'Pending'],
    );
    assert.equal(records('Didomi_Sync_Error__c').filter((r) => r.Status__c === 'Dismissed').length, 1, 'the tab changed no dead letter itself');
    await shot('error-queue');
    for (const [width, name] of [
      [1440, 'wide'],
      [800, 'narrow'],
    ] as const) {
      await page.setViewportSize({ width, height: 900 });
      // the row-action click above scrolled the table sideways; show it from its first column
      await page.locator('c-didomi-error-queue lightning-datatable .slds-scrollable_x').evaluateAll((els) => els.forEach((e) => (e.scrollLeft = 0)));
      const spill = await page.locator('c-didomi-error-queue article.slds-card').evaluate((a) => a.scrollWidth - a.clientWidth);
      assert.ok(spill <= 1, `nothing spills out of the queue's card at ${width} px (${spill} px)`);
      // the message column keeps a readable width (no letter-by-letter wrapping)
      const message = await page
        .locator('c-didomi-error-queue lightning-datatable th[aria-label="Message"]')
        .evaluate((th) => th.getBoundingClientRect().width);
      assert.ok(message >= 150, `message column ${message} px wide at ${width} px`);
      await shot(`error-queue-${name}`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await choose('Object', 'All');
  });

  test('status: a stale heartbeat turns the panel red', async () => {
    const status = records('Didomi_Sync_Status__c')[0];
    preview.emulator.org.update(null, 'Didomi_Sync_Status__c', status.Id as string, { Last_Heartbeat__c: new Date(Date.now() - 12 * 60_000).toISOString() });
    await page.getByRole('tab', { name: 'Status' }).click();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('Stale', { exact: true }).waitFor();
    assert.match(await page.locator('[data-id="stale-help"]').innerText(), /No heartbeat for 12 min/);
    await page.locator('[data-id="counts-as-of"]').waitFor();
    await shot('status-stale');
    await page.getByRole('button', { name: 'Open the error queue' }).click();
    await page.locator('c-didomi-error-queue [data-id="count"]').waitFor();
    assert.deepEqual(pageErrors, [], 'no script error in the page');
  });
});

describe('with the middleware running', () => {
  let stack: Stack;
  let didomi: DidomiApiStub;
  before(async () => {
    // Didomi's API with a catalogue, which the middleware copies into the org for the tab's pickers.
    const api = { key: 'didomi-api-key', secret: 'didomi-api-secret-0123456789', organizationId: 'acme-corp' };
    didomi = await startDidomiApiStub({
      ...api,
      catalogue: {
        purposes: [
          { id: PURPOSE, description: { en: 'Marketing', fr: 'Prospection' } },
          { id: PHONE_PURPOSE, description: { en: 'Phone calls' } },
        ],
        preferences: [
          {
            id: PREFERENCE,
            name: { en: 'Newsletter topics' },
            values: [
              { id: VALUE_WEEKLY, name: { en: 'Weekly digest' } },
              { id: VALUE_OFFERS, name: { en: 'Offers' } },
              { id: VALUE_EVENTS, name: { en: 'Events' } },
            ],
          },
        ],
      },
    });
    stack = await startStack({
      env: {
        BATCH_WAIT_MS: '200',
        HEARTBEAT_MS: '1000',
        CONFIG_REFRESH_MS: '1000',
        LOG_LEVEL: 'silent',
        DIDOMI_API_URL: didomi.url,
        DIDOMI_API_KEY: api.key,
        DIDOMI_API_SECRET: api.secret,
        DIDOMI_ORGANIZATION_ID: api.organizationId,
      },
    });
    stack.emu.seed({ Lead: [{ FirstName: 'Grace', LastName: 'Blanc', Company: 'Acme', Email: 'grace@example.com' }] });
    await stack.emu.setFaults({
      validationRules: [{ sobject: 'Lead', field: 'Email', value: 'grace@example.com', message: 'Marketing preferences of this lead are locked by Legal' }],
    });
    preview = await startPreview({ build: false, emulator: stack.emu, privateKey: stack.env.SF_PRIVATE_KEY, consumerKey: CONSUMER_KEY });
  });
  after(async () => {
    await page?.close();
    await preview?.close();
    await stack?.close();
    await didomi?.close();
  });

  test('a dead letter retried from the tab is replayed by the middleware and resolved', async () => {
    assert.equal((await stack.post(eventCreated('grace@example.com', new Date(), { purposes: { [PURPOSE]: false } }))).status, 202);
    await stack.waitForDrain();
    await openPage(preview.url);
    // The middleware's own heartbeat, not seeded data.
    await page.getByText('Alive', { exact: true }).waitFor();
    await page.getByRole('tab', { name: 'Error queue' }).click();
    const row = page.locator('lightning-datatable tbody tr', { hasText: 'grace@example.com' });
    await row.waitFor();
    assert.match(await row.innerText(), /FIELD_CUSTOM_VALIDATION_EXCEPTION/);
    assert.equal(records('Lead')[0].HasOptedOutOfEmail, false, 'the validation rule blocked the write');

    await stack.emu.setFaults({ validationRules: [] }); // the admin has the rule fixed, then asks for a retry
    await row.locator('input[type="checkbox"]').check({ force: true });
    await page.getByRole('button', { name: 'Request retry' }).click();
    await page.getByText('0 dead letter(s)').waitFor();
    await waitFor('the middleware replaying the retry request', () => records('Didomi_Sync_Error__c')[0].Status__c === 'Resolved');
    assert.equal(records('Lead')[0].HasOptedOutOfEmail, true, 'the consent reached the lead');
    await choose('Status', 'Resolved');
    await page.locator('lightning-datatable tbody tr', { hasText: 'grace@example.com' }).waitFor();
    await shot('error-resolved');
    assert.deepEqual(pageErrors, [], 'no script error in the page');
  });

  test('the Didomi catalogue copied by the middleware gives names in the mappings and pickers by name', async () => {
    await waitFor('the catalogue copied', () => records('Didomi_Catalogue_Entry__c').length >= 6);
    assert.equal(records('Didomi_Catalogue_Entry__c').length, 6, 'two purposes, one preference, three values');
    await page.reload();
    await page.getByRole('tab', { name: 'Targets and mappings' }).click();
    await page.locator('tr[data-object="Lead"]').getByRole('button', { name: 'Mappings' }).click();
    const editor = page.locator('c-didomi-mapping-editor');
    await editor.getByText('Marketing', { exact: true }).first().waitFor();
    assert.ok(await editor.getByText('Marketing › Newsletter topics › Weekly digest').count(), 'a preference value mapping shows names');
    await choose('Kind', 'Preference');
    await choose('Purpose id', /^Marketing/);
    await choose('Preference id', /^Newsletter topics/);
    assert.deepEqual(JSON.parse(await page.getByLabel('Value labels (JSON)').inputValue()), {
      [VALUE_WEEKLY]: 'Weekly digest',
      [VALUE_OFFERS]: 'Offers',
      [VALUE_EVENTS]: 'Events',
    });
    await shot('mapping-catalogue');
  });

  test('"retry all" of a code from the tab is carried out by the middleware, server-side', async () => {
    stack.emu.seed({
      Didomi_Sync_Error__c: Array.from({ length: 250 }, (_, i) => ({
        Error_Code__c: 'UNABLE_TO_LOCK_ROW',
        Status__c: 'Dismissed',
        Target_Object__c: 'Contact',
        Organization_User_Id__c: `locked${i}@example.com`,
        Message__c: 'unable to obtain exclusive access to this record',
      })),
    });
    await page.getByRole('tab', { name: 'Error queue' }).click();
    await choose('Status', 'Dismissed');
    const row = page.locator('[data-id="by-code"] tr[data-code="UNABLE_TO_LOCK_ROW"]');
    await row.getByRole('button', { name: 'Retry all 250' }).click();
    await page.locator('[data-id="confirm"]').getByRole('button', { name: 'Confirm' }).click();
    const request = () => records('Didomi_Sync_Bulk_Request__c')[0];
    await waitFor('the middleware carrying the request out', () => request()?.Status__c === 'Done');
    assert.equal(request().Records_Affected__c, 250);
    const locked = records('Didomi_Sync_Error__c').filter((r) => r.Error_Code__c === 'UNABLE_TO_LOCK_ROW');
    assert.equal(locked.filter((r) => r.Status__c === 'Dismissed').length, 0, 'none left dismissed');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual(pageErrors, [], 'no script error in the page');
  });
});
