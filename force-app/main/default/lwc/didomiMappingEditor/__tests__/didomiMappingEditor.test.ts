import { graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord, deleteRecord, updateRecord } from 'lightning/uiRecordApi';
import DidomiMappingEditor from 'c/didomiMappingEditor';
import { $, $$, change, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';

const TARGET_ID = 'a00000000000002AAA';
const EMAIL_OPT_OUT = {
  Id: 'a01000000000001AAA',
  Kind__c: 'Purpose',
  Purpose_Id__c: 'marketing',
  Preference_Id__c: null,
  Value_Id__c: null,
  Attribute_Path__c: null,
  Field_Api_Name__c: 'HasOptedOutOfEmail',
  Invert__c: true,
  Value_Labels__c: null,
  Regulation__c: 'gdpr',
};

/** A second mapping of the same target, on another checkbox. */
const ANALYTICS = { ...EMAIL_OPT_OUT, Id: 'a01000000000002AAA', Purpose_Id__c: 'analytics', Field_Api_Name__c: 'Marketing_Consent__c', Invert__c: false };

async function setup(rows: Record<string, unknown>[] = [EMAIL_OPT_OUT], refresh?: () => Promise<void>) {
  const el = mount('c-didomi-mapping-editor', DidomiMappingEditor, { targetId: TARGET_ID, objectApiName: 'Lead' });
  (getObjectInfo as any).emit(LEAD_INFO);
  (graphql as any).emit(gqlData('Didomi_Field_Mapping__c', connection(rows)), undefined, refresh);
  await flush();
  return el;
}
const field = (el: Element, name: string) => $(el, `[data-field="${name}"]`);

describe('c-didomi-mapping-editor', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });

  it('asks for the mappings of its target and the describe of its object', async () => {
    await setup();
    expect((graphql as any).getLastConfig().variables).toEqual({ targetId: TARGET_ID });
    expect((getObjectInfo as any).getLastConfig()).toEqual({ objectApiName: 'Lead' });
  });

  it('lists the mappings with their Didomi source and field label', async () => {
    const el = await setup();
    const rows = $$(el, 'tbody tr');
    expect(rows).toHaveLength(1);
    expect(rows[0].textContent).toContain('Email Opt Out (HasOptedOutOfEmail)');
    expect(rows[0].textContent).toContain('marketing');
    await expect(el).toBeAccessible();
  });

  it('offers only the fields the chosen kind may write', async () => {
    const el = await setup([]);
    expect($(el, '[data-id="empty"]').textContent).toBe('c.Didomi_Mappings_Empty');
    change(field(el, 'kind'), 'Purpose');
    await flush();
    expect(field(el, 'field').options.map((o: any) => o.value)).toEqual(['HasOptedOutOfEmail', 'Marketing_Consent__c']);
    change(field(el, 'kind'), 'Preference');
    await flush();
    expect(field(el, 'field').options.map((o: any) => o.value)).toEqual(['City', 'Company', 'LastName', 'Status', 'Newsletter_Topics__c']);
    const search = $(el, '[data-id="field-search"]');
    search.value = 'news';
    search.dispatchEvent(new CustomEvent('change'));
    await flush();
    expect(field(el, 'field').options.map((o: any) => o.value)).toEqual(['Newsletter_Topics__c']);
    await expect(el).toBeAccessible();
  });

  it('refuses a text field for a purpose before saving anything', async () => {
    const el = await setup([]);
    change(field(el, 'kind'), 'Preference');
    await flush();
    change(field(el, 'field'), 'Newsletter_Topics__c');
    change(field(el, 'kind'), 'Purpose');
    await flush();
    change(field(el, 'purposeId'), 'marketing');
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect($(el, '[data-id="form-error"]').textContent).toBe('c.Didomi_Mapping_Incompatible');
    expect($(el, '[data-id="form-error"]').getAttribute('role')).toBe('alert');
    expect(createRecord).not.toHaveBeenCalled();
    await expect(el).toBeAccessible();
  });

  it('refuses a field another mapping already writes', async () => {
    const el = await setup();
    change(field(el, 'kind'), 'Purpose');
    await flush();
    change(field(el, 'purposeId'), 'analytics');
    change(field(el, 'field'), 'HasOptedOutOfEmail');
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect($(el, '[data-id="form-error"]').textContent).toBe('c.Didomi_Mapping_Duplicate_Field');
    expect(createRecord).not.toHaveBeenCalled();
  });

  it('saves a preference mapping with exactly the inputs that kind uses', async () => {
    const refresh = jest.fn().mockResolvedValue(undefined);
    const el = await setup([EMAIL_OPT_OUT], refresh);
    change(field(el, 'kind'), 'Preference');
    await flush();
    change(field(el, 'purposeId'), 'newsletter');
    change(field(el, 'preferenceId'), 'topics');
    change(field(el, 'field'), 'Newsletter_Topics__c');
    change(field(el, 'valueLabels'), '{"dK7rBBXk": "Weekly"}');
    change(field(el, 'regulation'), ' gdpr ');
    await flush();
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect(createRecord).toHaveBeenCalledWith({
      apiName: 'Didomi_Field_Mapping__c',
      fields: {
        Target__c: TARGET_ID,
        Kind__c: 'Preference',
        Active__c: true,
        Purpose_Id__c: 'newsletter',
        Preference_Id__c: 'topics',
        Value_Id__c: null,
        Attribute_Path__c: null,
        Field_Api_Name__c: 'Newsletter_Topics__c',
        Invert__c: false,
        Value_Labels__c: '{"dK7rBBXk": "Weekly"}',
        Regulation__c: 'gdpr',
      },
    });
    expect(refresh).toHaveBeenCalled();
    expect(field(el, 'kind').value).toBe('');
  });

  it('saves an inverted purpose and shows server errors', async () => {
    const el = await setup([]);
    change(field(el, 'kind'), 'Purpose');
    await flush();
    change(field(el, 'purposeId'), 'marketing');
    change(field(el, 'field'), 'Marketing_Consent__c');
    await flush();
    change(field(el, 'invert'), true);
    (createRecord as jest.Mock).mockRejectedValueOnce({
      body: { message: 'x', output: { errors: [], fieldErrors: { Kind__c: [{ message: 'Kind: bad value for restricted picklist field: Purpose' }] } } },
    });
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect((createRecord as jest.Mock).mock.calls[0][0].fields).toMatchObject({
      Kind__c: 'Purpose',
      Invert__c: true,
      Purpose_Id__c: 'marketing',
      Preference_Id__c: null,
    });
    expect($(el, '[data-id="form-error"]').textContent).toBe('Kind: bad value for restricted picklist field: Purpose');
  });

  it('deletes a mapping only after a confirmation', async () => {
    const refresh = jest.fn().mockResolvedValue(undefined);
    const el = await setup([EMAIL_OPT_OUT], refresh);
    $(el, 'tbody lightning-button-icon[data-action="delete"]').click();
    await flush();
    expect(deleteRecord).not.toHaveBeenCalled();
    expect($(el, '[data-id="confirm-delete-text"]').textContent).toBe('c.Didomi_Mapping_Confirm_Delete');
    await expect(el).toBeAccessible();
    $(el, '[data-id="cancel-delete"]').click();
    await flush();
    expect($(el, '[data-id="confirm-delete-text"]')).toBeNull();
    $(el, 'tbody lightning-button-icon[data-action="delete"]').click();
    await flush();
    $(el, '[data-id="confirm-delete"]').click();
    await flush();
    expect(deleteRecord).toHaveBeenCalledWith(EMAIL_OPT_OUT.Id);
    expect(refresh).toHaveBeenCalled();
  });

  it('labels every column and keeps the regulation apart from the options', async () => {
    const el = await setup([EMAIL_OPT_OUT, { ...ANALYTICS, Regulation__c: null, Active__c: false }]);
    expect($$(el, '[data-id="mappings"] thead th').map((th) => th.textContent)).toEqual([
      'c.Didomi_Mapping_Kind',
      'c.Didomi_Mapping_Source',
      'c.Didomi_Mapping_Field',
      'c.Didomi_Mapping_Regulation',
      'c.Didomi_Mapping_Options',
      'c.Didomi_Delete',
    ]);
    const cells = (i: number) => [...$$(el, 'tbody tr')[i].querySelectorAll('td')].map((td: any) => td.textContent);
    expect(cells(0).slice(2, 4)).toEqual(['gdpr', 'c.Didomi_Mapping_Invert']);
    expect(cells(1).slice(2, 4)).toEqual(['gdpr', 'c.Didomi_Mapping_Inactive']);
  });

  it('edits a mapping in place: its own field is no duplicate, the parent is not re-sent, and it can be turned off', async () => {
    const refresh = jest.fn().mockResolvedValue(undefined);
    const el = await setup([EMAIL_OPT_OUT, ANALYTICS], refresh);
    $(el, 'tbody lightning-button-icon[data-action="edit"]').click();
    await flush();
    expect($(el, 'h3').textContent).toBe('c.Didomi_Mapping_Edit');
    expect(field(el, 'kind').value).toBe('Purpose');
    expect(field(el, 'field').value).toBe('HasOptedOutOfEmail');
    change(field(el, 'regulation'), 'cpra');
    change(field(el, 'active'), false);
    await flush();
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect(createRecord).not.toHaveBeenCalled();
    expect(updateRecord).toHaveBeenCalledWith({
      fields: {
        Id: EMAIL_OPT_OUT.Id,
        Kind__c: 'Purpose',
        Active__c: false,
        Purpose_Id__c: 'marketing',
        Preference_Id__c: null,
        Value_Id__c: null,
        Attribute_Path__c: null,
        Field_Api_Name__c: 'HasOptedOutOfEmail',
        Invert__c: true,
        Value_Labels__c: null,
        Regulation__c: 'cpra',
      },
    });
    expect(refresh).toHaveBeenCalled();
    expect($(el, 'h3').textContent).toBe('c.Didomi_Mapping_New');
  });

  it('refuses an edit that would collide with another mapping, and cancels back to a new one', async () => {
    const el = await setup([EMAIL_OPT_OUT, ANALYTICS]);
    $$(el, 'tbody lightning-button-icon[data-action="edit"]')[1].click();
    await flush();
    change(field(el, 'field'), 'HasOptedOutOfEmail');
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect($(el, '[data-id="form-error"]').textContent).toBe('c.Didomi_Mapping_Duplicate_Field');
    expect(updateRecord).not.toHaveBeenCalled();
    await expect(el).toBeAccessible();
    $(el, '[data-id="cancel-mapping"]').click();
    await flush();
    expect(field(el, 'kind').value).toBe('');
    expect($(el, '[data-id="cancel-mapping"]')).toBeNull();
  });
});
