// The mapping editor with Didomi's catalogue (Didomi_Catalogue_Entry__c, copied by the middleware):
// pickers by name, names in the mappings table, value labels filled in; without it, free-text ids
// with an example and help.
import { graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord } from 'lightning/uiRecordApi';
import DidomiMappingEditor from 'c/didomiMappingEditor';
import { $, $$, change, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';
import { catalogueEntry } from '../../../../../../test/jest-fixtures/catalogue';
import { buildCatalogue, pickName } from 'c/didomiCatalogue';

const TARGET_ID = 'a00000000000002AAA';
const CATALOGUE = [
  catalogueEntry('Purpose', 'marketing-9HmMn6Vt', { en: 'Marketing', fr: 'Prospection' }),
  catalogueEntry('Purpose', 'analytics-Xy12', { en: 'Analytics' }),
  catalogueEntry('Preference', 'CFWKNVJV', { en: 'Topics', fr: 'Sujets' }),
  catalogueEntry('Preference Value', 'dK7rBBXk', { en: 'Offers', fr: 'Offres' }, 'CFWKNVJV'),
  catalogueEntry('Preference Value', 'Qz8hNn3W', { en: 'Weekly digest' }, 'CFWKNVJV'),
];
const SAVED = {
  Id: 'a01000000000001AAA',
  Kind__c: 'Preference Value',
  Purpose_Id__c: 'marketing-9HmMn6Vt',
  Preference_Id__c: 'CFWKNVJV',
  Value_Id__c: 'dK7rBBXk',
  Attribute_Path__c: null,
  Field_Api_Name__c: 'Marketing_Consent__c',
  Invert__c: false,
  Value_Labels__c: null,
  Regulation__c: null,
};

const isCatalogue = (c: any) => !c?.variables;
async function setup(catalogue: Record<string, unknown>[] | null, mappings: Record<string, unknown>[] = [SAVED], refresh?: () => Promise<void>) {
  const el = mount('c-didomi-mapping-editor', DidomiMappingEditor, { targetId: TARGET_ID, objectApiName: 'Lead' });
  await flush();
  (getObjectInfo as any).emit(LEAD_INFO);
  (graphql as any).emit(gqlData('Didomi_Field_Mapping__c', connection(mappings)), (c: any) => !isCatalogue(c), refresh);
  if (catalogue) (graphql as any).emit(gqlData('Didomi_Catalogue_Entry__c', connection(catalogue)), isCatalogue);
  await flush();
  return el;
}
const field = (el: Element, name: string) => $(el, `[data-field="${name}"]`);

describe('c-didomi-mapping-editor with the Didomi catalogue', () => {
  const language = navigator.language;
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
    Object.defineProperty(navigator, 'language', { value: language, configurable: true });
  });

  it('shows names instead of ids in the mappings table', async () => {
    const el = await setup(CATALOGUE);
    expect($(el, 'tr[data-field="Marketing_Consent__c"] td:nth-child(2)').textContent).toBe('Marketing › Topics › Offers');
    await expect(el).toBeAccessible();
  });

  it('offers purposes, preferences and their values by name, and saves their ids', async () => {
    const el = await setup(CATALOGUE);
    change(field(el, 'kind'), 'Preference Value');
    await flush();
    expect(field(el, 'purposeId').tagName).toBe('LIGHTNING-COMBOBOX');
    expect(field(el, 'purposeId').options).toEqual([
      { label: 'Analytics (analytics-Xy12)', value: 'analytics-Xy12' },
      { label: 'Marketing (marketing-9HmMn6Vt)', value: 'marketing-9HmMn6Vt' },
    ]);
    change(field(el, 'purposeId'), 'analytics-Xy12');
    change(field(el, 'preferenceId'), 'CFWKNVJV');
    await flush();
    expect(field(el, 'valueId').options.map((o: any) => o.label)).toEqual(['Offers (dK7rBBXk)', 'Weekly digest (Qz8hNn3W)']);
    change(field(el, 'valueId'), 'Qz8hNn3W');
    change(field(el, 'field'), 'HasOptedOutOfEmail');
    await flush();
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect((createRecord as jest.Mock).mock.calls[0][0].fields).toMatchObject({
      Kind__c: 'Preference Value',
      Purpose_Id__c: 'analytics-Xy12',
      Preference_Id__c: 'CFWKNVJV',
      Value_Id__c: 'Qz8hNn3W',
    });
    await expect(el).toBeAccessible();
  });

  it('fills a preference mapping’s value labels from the catalogue, unless the admin wrote their own', async () => {
    const el = await setup(CATALOGUE);
    change(field(el, 'kind'), 'Preference');
    await flush();
    change(field(el, 'preferenceId'), 'CFWKNVJV');
    await flush();
    expect(JSON.parse(field(el, 'valueLabels').value)).toEqual({ dK7rBBXk: 'Offers', Qz8hNn3W: 'Weekly digest' });
    change(field(el, 'valueLabels'), '{"dK7rBBXk": "Deals"}');
    change(field(el, 'preferenceId'), 'CFWKNVJV');
    await flush();
    expect(field(el, 'valueLabels').value).toBe('{"dK7rBBXk": "Deals"}');
  });

  it('ignores the browser’s language: names follow the Salesforce user’s (sfdx-lwc-jest’s @salesforce/i18n/lang is "en")', async () => {
    Object.defineProperty(navigator, 'language', { value: 'fr-FR', configurable: true });
    const el = await setup(CATALOGUE);
    expect($(el, 'tr[data-field="Marketing_Consent__c"] td:nth-child(2)').textContent).toBe('Marketing › Topics › Offers');
  });

  it('"map every purpose to a checkbox field": proposes a checkbox by name, inverts an opt-out field, skips what is left unchosen', async () => {
    const refresh = jest.fn().mockResolvedValue(undefined);
    const el = await setup([...CATALOGUE, catalogueEntry('Purpose', 'phone-Q1', { en: 'Phone' })], [], refresh);
    $(el, '[data-id="quick-start"]').click();
    await flush();
    const pickers = [...el.shadowRoot!.querySelectorAll('[data-id="quick-start-panel"] lightning-combobox')] as any[];
    expect(pickers.map((p) => [p.label, p.value])).toEqual([
      ['Analytics', ''],
      ['Marketing', 'Marketing_Consent__c'],
      ['Phone', ''],
    ]);
    expect(pickers[0].options.map((o: any) => o.value)).toEqual(['', 'HasOptedOutOfEmail', 'Marketing_Consent__c']);
    await expect(el).toBeAccessible();
    change(pickers[0], 'HasOptedOutOfEmail');
    await flush();
    expect($(el, '[data-id="quick-create"]').label).toBe('c.Didomi_Quick_Start_Create');
    $(el, '[data-id="quick-create"]').click();
    await flush();
    expect(
      (createRecord as jest.Mock).mock.calls.map((c) => [
        c[0].fields.Purpose_Id__c,
        c[0].fields.Field_Api_Name__c,
        c[0].fields.Invert__c,
        c[0].fields.Target__c,
      ]),
    ).toEqual([
      ['analytics-Xy12', 'HasOptedOutOfEmail', true, TARGET_ID],
      ['marketing-9HmMn6Vt', 'Marketing_Consent__c', false, TARGET_ID],
    ]);
    expect(refresh).toHaveBeenCalled();
    expect($(el, '[data-id="quick-start-panel"]')).toBeNull();
  });

  it('"map every purpose" refuses two purposes into one field and saves the rest', async () => {
    const el = await setup(CATALOGUE, []);
    $(el, '[data-id="quick-start"]').click();
    await flush();
    const pickers = [...el.shadowRoot!.querySelectorAll('[data-id="quick-start-panel"] lightning-combobox')] as any[];
    change(pickers[0], 'Marketing_Consent__c');
    await flush();
    $(el, '[data-id="quick-create"]').click();
    await flush();
    expect((createRecord as jest.Mock).mock.calls.map((c) => c[0].fields.Purpose_Id__c)).toEqual(['analytics-Xy12']);
    expect($(el, '[data-id="quick-start-panel"] [role="alert"]').textContent).toBe('Marketing: c.Didomi_Mapping_Duplicate_Field');
  });

  it('offers no quick start when every purpose is mapped, or without a catalogue', async () => {
    const both = [
      { ...SAVED, Id: 'a01000000000002AAA', Kind__c: 'Purpose', Purpose_Id__c: 'marketing-9HmMn6Vt', Preference_Id__c: null, Value_Id__c: null },
      {
        ...SAVED,
        Id: 'a01000000000003AAA',
        Kind__c: 'Purpose',
        Purpose_Id__c: 'analytics-Xy12',
        Preference_Id__c: null,
        Value_Id__c: null,
        Field_Api_Name__c: 'HasOptedOutOfEmail',
      },
    ];
    expect($(await setup(CATALOGUE, both), '[data-id="quick-start"]')).toBeNull();
    unmountAll();
    expect($(await setup(null, []), '[data-id="quick-start"]')).toBeNull();
  });

  const READS: Record<string, string[]> = {
    Purpose: ['purposeId'],
    Preference: ['purposeId', 'preferenceId'],
    'Preference Value': ['purposeId', 'preferenceId', 'valueId'],
    'User Attribute': [],
    'Consent Model': ['purposeId'],
  };
  const ID_LABELS: Record<string, string> = {
    purposeId: 'c.Didomi_Mapping_Purpose_Id',
    preferenceId: 'c.Didomi_Mapping_Preference_Id',
    valueId: 'c.Didomi_Mapping_Value_Id',
  };
  it.each(Object.keys(READS).flatMap((kind) => [[kind, 'catalogue pickers', true] as const, [kind, 'free-text ids', false] as const]))(
    '%s shows the Didomi ids it reads, in order, as %s',
    async (kind, _how, withCatalogue) => {
      const el = await setup(withCatalogue ? CATALOGUE : null);
      change(field(el, 'kind'), kind);
      await flush();
      const shown = $$(el, '[data-field]').filter((e) => e.dataset.field in ID_LABELS);
      expect(shown.map((e) => e.dataset.field)).toEqual(READS[kind]);
      const tag = withCatalogue ? 'LIGHTNING-COMBOBOX' : 'LIGHTNING-INPUT';
      expect(shown.map((e) => [e.tagName, e.label, e.required])).toEqual(READS[kind].map((id) => [tag, ID_LABELS[id], true]));
    },
  );

  it('without a catalogue: free-text ids, with an example and help', async () => {
    const el = await setup(null);
    change(field(el, 'kind'), 'Preference Value');
    await flush();
    for (const [name, example, help] of [
      ['purposeId', 'marketing-9HmMn6Vt', 'c.Didomi_Mapping_Purpose_Help'],
      ['preferenceId', 'CFWKNVJV', 'c.Didomi_Mapping_Preference_Help'],
      ['valueId', 'dK7rBBXk', 'c.Didomi_Mapping_Value_Help'],
    ]) {
      expect(field(el, name).tagName).toBe('LIGHTNING-INPUT');
      expect(field(el, name).placeholder).toBe(example);
      expect(field(el, name).fieldLevelHelp).toBe(help);
    }
    expect($(el, 'tr[data-field="Marketing_Consent__c"] td:nth-child(2)').textContent).toBe('marketing-9HmMn6Vt › CFWKNVJV › dK7rBBXk');
    await expect(el).toBeAccessible();
  });
});

describe('c-didomi-mapping-editor with entries removed in Didomi', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });
  // catalogue-sync.ts stamps every entry of a refresh with the same Last_Seen_At__c; Analytics and
  // Weekly digest were not in Didomi's last answer.
  const LAST = '2026-11-25T10:00:00.000Z';
  const seen = (e: Record<string, unknown>, at: string | null) => ({ ...e, Last_Seen_At__c: at });
  const REFRESHED = CATALOGUE.map((e) => seen(e, ['analytics-Xy12', 'Qz8hNn3W'].includes(e.Didomi_Id__c) ? '2026-11-20T10:00:00.000Z' : LAST));

  it('hides them from the pickers and the quick start', async () => {
    const el = await setup(REFRESHED, []);
    change(field(el, 'kind'), 'Preference Value');
    await flush();
    expect(field(el, 'purposeId').options).toEqual([{ label: 'Marketing (marketing-9HmMn6Vt)', value: 'marketing-9HmMn6Vt' }]);
    change(field(el, 'preferenceId'), 'CFWKNVJV');
    await flush();
    expect(field(el, 'valueId').options.map((o: any) => o.label)).toEqual(['Offers (dK7rBBXk)']);
    $(el, '[data-id="quick-start"]').click();
    await flush();
    const pickers = [...el.shadowRoot!.querySelectorAll('[data-id="quick-start-panel"] lightning-combobox')] as any[];
    expect(pickers.map((p) => p.label)).toEqual(['Marketing']);
    await expect(el).toBeAccessible();
  });

  it('marks them "removed in Didomi" where a mapping still reads them, and keeps the mapping’s choice when reopened', async () => {
    const el = await setup(REFRESHED, [{ ...SAVED, Purpose_Id__c: 'analytics-Xy12', Value_Id__c: 'Qz8hNn3W' }]);
    expect($(el, 'tr[data-field="Marketing_Consent__c"] td:nth-child(2)').textContent).toBe(
      'Analytics (c.Didomi_Catalogue_Removed) › Topics › Weekly digest (c.Didomi_Catalogue_Removed)',
    );
    $(el, 'tr[data-field="Marketing_Consent__c"] [data-action="edit"]').click();
    await flush();
    expect(field(el, 'purposeId').value).toBe('analytics-Xy12');
    expect(field(el, 'purposeId').options[0]).toEqual({ label: 'Analytics (analytics-Xy12, c.Didomi_Catalogue_Removed)', value: 'analytics-Xy12' });
    expect(field(el, 'valueId').options.map((o: any) => o.label)).toEqual(['Weekly digest (Qz8hNn3W, c.Didomi_Catalogue_Removed)', 'Offers (dK7rBBXk)']);
  });

  it('judges nothing when no entry carries a refresh stamp (an older middleware)', async () => {
    const el = await setup(
      CATALOGUE.map((e) => seen(e, null)),
      [],
    );
    change(field(el, 'kind'), 'Purpose');
    await flush();
    expect(field(el, 'purposeId').options.map((o: any) => o.value)).toEqual(['analytics-Xy12', 'marketing-9HmMn6Vt']);
  });
});

describe('catalogue names', () => {
  it('falls back from the region to the language, to English, to any name, to the id', () => {
    expect(pickName('{"fr": "Sujets", "en": "Topics"}', 'fr-CA', 'x')).toBe('Sujets');
    expect(pickName('{"de": "Themen", "en": "Topics"}', 'fr-FR', 'x')).toBe('Topics');
    expect(pickName('{"de": "Themen"}', 'fr', 'x')).toBe('Themen');
    expect(pickName('not json', 'fr', 'CFWKNVJV')).toBe('CFWKNVJV');
  });
  it('skips rows without an id and keeps values under their preference', () => {
    const c = buildCatalogue([...CATALOGUE, { Kind__c: 'Purpose', Didomi_Id__c: null }], 'en');
    expect(c.purposes.map((p) => p.id)).toEqual(['analytics-Xy12', 'marketing-9HmMn6Vt']);
    expect(c.preferences[0].values.map((v) => v.name)).toEqual(['Offers', 'Weekly digest']);
  });
});
