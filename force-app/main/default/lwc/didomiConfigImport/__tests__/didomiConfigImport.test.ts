import { graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord } from 'lightning/uiRecordApi';
import DidomiConfigImport from 'c/didomiConfigImport';
import { $, $$, change, connection, flush, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';
import { parseConnectorConfig } from '../connectorConfig';

// Didomi's documented sf-sales-cloud example, with mappings in Didomi's flattened property form.
const CONFIG = {
  type_id: 'sf-sales-cloud',
  authentication: { url: 'https://acme.my.salesforce.com', client_id: 'cid', client_secret: 'a-secret-that-must-go-nowhere' },
  properties: { sobject: ['Lead'] },
  mappings: [
    { id: 'Marketing_Consent__c', value: 'consents_purposes_marketing-9HmMn6Vt_enabled' },
    { id: 'HasOptedOutOfEmail', value: 'consents_purposes_newsletter_enabled' },
    { id: 'Newsletter_Topics__c', value: 'consents_purposes_newsletter_preferences_topics_channel_email_enabled' },
    { id: 'City', value: 'tFyHkpl', type: 'pmp-widget-id' },
    { id: 'No_Such_Field__c', value: 'consents_purposes_analytics_enabled' },
    { id: 'Marketing_Consent__c', value: 'consents_purposes_other_enabled' },
  ],
  upsert_mode: true,
};

function emitTargets(targets: Record<string, unknown>[] = [], mappings: Record<string, unknown>[] = [], refresh?: () => Promise<void>) {
  (graphql as any).emit(
    { uiapi: { query: { Didomi_Sync_Target__c: connection(targets), Didomi_Field_Mapping__c: connection(mappings) } } },
    undefined,
    refresh,
  );
}
async function check(el: HTMLElement, config: unknown) {
  change($(el, '[data-id="config-text"]'), typeof config === 'string' ? config : JSON.stringify(config));
  $(el, '[data-id="check"]').click();
  await flush();
}
const outcomes = (el: HTMLElement) => $$(el, '[data-id="import-rows"] tbody tr').map((tr) => [...tr.querySelectorAll('td')].map((td: any) => td.textContent));

describe('c-didomi-config-import', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });

  it('checks every mapping against the object before importing, and lists each refusal precisely', async () => {
    const el = mount('c-didomi-config-import', DidomiConfigImport);
    emitTargets();
    await check(el, CONFIG);
    expect((getObjectInfo as any).getLastConfig()).toEqual({ objectApiName: 'Lead' });
    expect($(el, '[data-id="import-rows"]')).toBeNull(); // not before the describe has arrived
    (getObjectInfo as any).emit(LEAD_INFO);
    await flush();
    const rows = outcomes(el);
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['Marketing_Consent__c', 'consents_purposes_marketing-9HmMn6Vt_enabled', 'Purpose › marketing-9HmMn6Vt'],
      ['HasOptedOutOfEmail', 'consents_purposes_newsletter_enabled', 'Purpose › newsletter'],
      ['Newsletter_Topics__c', 'consents_purposes_newsletter_preferences_topics_channel_email_enabled', 'Preference Value › newsletter › topics › email'],
      ['City', 'tFyHkpl', '—'],
      ['No_Such_Field__c', 'consents_purposes_analytics_enabled', 'Purpose › analytics'],
      ['Marketing_Consent__c', 'consents_purposes_other_enabled', 'Purpose › other'],
    ]);
    const results = rows.map((r) => r[3]);
    expect(results[0]).toBe('c.Didomi_Import_Ok');
    expect(results[1]).toBe('c.Didomi_Import_Ok (c.Didomi_Import_Inverted)');
    expect(results[2]).toBe('c.Didomi_Mapping_Incompatible'); // a text field for a Boolean value
    expect(results[3]).toBe('c.Didomi_Import_Widget_Id');
    expect(results[4]).toBe('c.Didomi_Mapping_Unknown_Field');
    expect(results[5]).toBe('c.Didomi_Mapping_Duplicate_Field'); // the same field twice in the file
    expect($$(el, '[data-id="import-rows"] tbody tr').map((tr) => tr.dataset.status)).toEqual(['ok', 'ok', 'refused', 'refused', 'refused', 'refused']);
    expect($(el, '[data-id="import"]').label).toBe('c.Didomi_Import_Button');
    // Lead requires Company and LastName on create; the file has no defaults: upsert is not turned on
    expect($(el, '[data-id="import-target"]').textContent).toBe('c.Didomi_Import_New_Target c.Didomi_Import_Upsert_Needs_Defaults');
    expect(createRecord).not.toHaveBeenCalled();
    await expect(el).toBeAccessible();
  });

  it('names the Didomi purposes, preferences and values from the catalogue, ids where it has none, and says which Didomi removed', async () => {
    const el = mount('c-didomi-config-import', DidomiConfigImport);
    const entry = (Kind__c: string, Didomi_Id__c: string, en: string, Preference_Id__c: string | null = null, seen = '2026-11-25T10:00:00.000Z') => ({
      Id: `a05${Didomi_Id__c.padEnd(15, '0').slice(0, 15)}`,
      Name: en,
      Kind__c,
      Didomi_Id__c,
      Preference_Id__c,
      Names__c: JSON.stringify({ en }),
      Last_Seen_At__c: seen,
    });
    const catalogue = [
      entry('Purpose', 'marketing-9HmMn6Vt', 'Marketing'),
      entry('Purpose', 'newsletter', 'Newsletter', null, '2026-11-20T10:00:00.000Z'),
      entry('Preference', 'topics', 'Topics'),
      entry('Preference Value', 'email', 'By email', 'topics'),
    ];
    (graphql as any).emit({
      uiapi: { query: { Didomi_Sync_Target__c: connection([]), Didomi_Field_Mapping__c: connection([]), Didomi_Catalogue_Entry__c: connection(catalogue) } },
    });
    await check(el, CONFIG);
    (getObjectInfo as any).emit(LEAD_INFO);
    await flush();
    expect(outcomes(el).map((r) => r[2])).toEqual([
      'Purpose › Marketing',
      'Purpose › Newsletter (c.Didomi_Catalogue_Removed)',
      'Preference Value › Newsletter (c.Didomi_Catalogue_Removed) › Topics › By email',
      '—',
      'Purpose › analytics',
      'Purpose › other',
    ]);
    await expect(el).toBeAccessible();
  });

  it('imports the accepted mappings into a new target, without upsert while required fields lack defaults', async () => {
    const el = mount('c-didomi-config-import', DidomiConfigImport);
    const refresh = jest.fn().mockResolvedValue(undefined);
    emitTargets([], [], refresh);
    await check(el, CONFIG);
    (getObjectInfo as any).emit(LEAD_INFO);
    await flush();
    (createRecord as jest.Mock).mockResolvedValueOnce({ id: 'a00000000000001AAA' }).mockResolvedValue({ id: 'a01000000000001AAA' });
    const events: any[] = [];
    el.addEventListener('imported', (e: any) => events.push(e.detail));
    $(el, '[data-id="import"]').click();
    await flush();
    const calls = (createRecord as jest.Mock).mock.calls.map((c) => c[0]);
    expect(calls[0]).toEqual({
      apiName: 'Didomi_Sync_Target__c',
      fields: { Name: 'Lead target', Object__c: 'Lead', Active__c: true, Upsert_Mode__c: false, Match_Field__c: 'Email', Deletion_Behavior__c: 'Ignore' },
    });
    const base = { Target__c: 'a00000000000001AAA', Active__c: true, Attribute_Path__c: null, Value_Labels__c: null, Regulation__c: null };
    expect(calls.slice(1)).toEqual([
      {
        apiName: 'Didomi_Field_Mapping__c',
        fields: {
          ...base,
          Kind__c: 'Purpose',
          Purpose_Id__c: 'marketing-9HmMn6Vt',
          Preference_Id__c: null,
          Value_Id__c: null,
          Field_Api_Name__c: 'Marketing_Consent__c',
          Invert__c: false,
        },
      },
      {
        apiName: 'Didomi_Field_Mapping__c',
        fields: {
          ...base,
          Kind__c: 'Purpose',
          Purpose_Id__c: 'newsletter',
          Preference_Id__c: null,
          Value_Id__c: null,
          Field_Api_Name__c: 'HasOptedOutOfEmail',
          Invert__c: true,
        },
      },
    ]);
    expect(JSON.stringify(calls)).not.toContain('a-secret-that-must-go-nowhere');
    expect($(el, '[data-id="import-done"]').textContent).toBe('c.Didomi_Import_Done');
    expect(events).toEqual([{ targetId: 'a00000000000001AAA', object: 'Lead', imported: 2 }]);
    expect(refresh).toHaveBeenCalled();
  });

  it('adds to an existing target and refuses what it already maps', async () => {
    const el = mount('c-didomi-config-import', DidomiConfigImport);
    emitTargets(
      [{ Id: 'a00000000000009AAA', Object__c: 'Lead' }],
      [{ Id: 'a01000000000009AAA', Target__c: 'a00000000000009AAA', Kind__c: 'Purpose', Purpose_Id__c: 'newsletter', Field_Api_Name__c: 'Email_Consent__c' }],
    );
    await check(el, { ...CONFIG, mappings: CONFIG.mappings.slice(0, 2), upsert_mode: false });
    (getObjectInfo as any).emit(LEAD_INFO);
    await flush();
    expect($(el, '[data-id="import-target"]').textContent).toBe('c.Didomi_Import_Existing_Target');
    expect(outcomes(el).map((r) => r[3])).toEqual(['c.Didomi_Import_Ok', 'c.Didomi_Mapping_Duplicate_Source']);
    (createRecord as jest.Mock).mockResolvedValue({ id: 'a01000000000010AAA' });
    $(el, '[data-id="import"]').click();
    await flush();
    expect((createRecord as jest.Mock).mock.calls.map((c) => [c[0].apiName, c[0].fields.Target__c])).toEqual([
      ['Didomi_Field_Mapping__c', 'a00000000000009AAA'],
    ]);
  });

  it('refuses a file that is not a usable connector configuration, saying why', async () => {
    const el = mount('c-didomi-config-import', DidomiConfigImport);
    emitTargets();
    await check(el, '{"type_id": ');
    expect($(el, '[data-id="import-error"]').textContent).toBe('c.Didomi_Import_Bad_Json');
    await expect(el).toBeAccessible();
    await check(el, { ...CONFIG, type_id: 'webhook-http' });
    expect($(el, '[data-id="import-error"]').textContent).toBe('c.Didomi_Import_Wrong_Type');
    await check(el, { ...CONFIG, properties: { sobject: ['Lead', 'Contact'] } });
    expect($(el, '[data-id="import-error"]').textContent).toBe('c.Didomi_Import_One_Object');
    expect($(el, '[data-id="import"]')).toBeNull();
    expect(createRecord).not.toHaveBeenCalled();
  });

  it('reads an uploaded .json file', async () => {
    const el = mount('c-didomi-config-import', DidomiConfigImport);
    emitTargets();
    await flush();
    const input = $(el, '[data-id="config-file"]');
    const file = { text: () => Promise.resolve(JSON.stringify(CONFIG)) };
    Object.defineProperty(input, 'files', { value: [file] });
    input.dispatchEvent(new CustomEvent('change'));
    await flush();
    expect((getObjectInfo as any).getLastConfig()).toEqual({ objectApiName: 'Lead' });
    expect($(el, '[data-id="config-text"]').value).toBe(JSON.stringify(CONFIG));
  });
});

describe('connector configuration', () => {
  it('reads Didomi flattened properties: purposes and preference channels; refuses the rest', () => {
    const { config } = parseConnectorConfig(
      JSON.stringify({
        ...CONFIG,
        properties: { sobject: 'Contact' },
        mappings: [
          { id: 'A__c', value: 'consents_purposes_p_1_enabled' },
          { id: 'B__c', value: 'consents_purposes_p_preferences_q_enabled' },
          { id: 'C__c', value: 'organization_user_id' },
          { id: '', value: 'consents_purposes_p_enabled' },
        ],
      }),
    );
    expect(config!.object).toBe('Contact');
    expect(config!.rows.map((r) => [r.draft?.kind ?? null, r.draft?.purposeId ?? null, r.refusal])).toEqual([
      ['Purpose', 'p_1', null],
      [null, null, 'c.Didomi_Import_Unknown_Value'],
      [null, null, 'c.Didomi_Import_Unknown_Value'],
      [null, null, 'c.Didomi_Import_No_Field'],
    ]);
    expect(parseConnectorConfig(JSON.stringify({ ...CONFIG, properties: { sobject: ['Opportunity'] } })).error).toBe('c.Didomi_Import_Unknown_Object');
    expect(parseConnectorConfig(JSON.stringify({ ...CONFIG, upsert_mode: 'yes' })).error).toBe('c.Didomi_Import_Bad_Upsert');
    expect(parseConnectorConfig(JSON.stringify({ ...CONFIG, mappings: [] })).error).toBe('c.Didomi_Import_No_Mappings');
  });
});
