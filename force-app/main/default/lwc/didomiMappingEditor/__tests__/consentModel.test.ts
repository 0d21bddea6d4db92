// The mapping editor and kind "Consent Model" (issue 16): the purpose, a DataUsePurpose name and a
// channel are asked for, no field; what is saved is what the middleware reads (config-loader.ts).
import { graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord } from 'lightning/uiRecordApi';
import DidomiMappingEditor from 'c/didomiMappingEditor';
import { $, $$, change, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';

const TARGET_ID = 'a00000000000002AAA';
const field = (el: Element, name: string) => $(el, `[data-field="${name}"]`);

async function setup(rows: Record<string, unknown>[] = []) {
  const el = mount('c-didomi-mapping-editor', DidomiMappingEditor, { targetId: TARGET_ID, objectApiName: 'Lead' });
  (getObjectInfo as any).emit(LEAD_INFO);
  (graphql as any).emit(gqlData('Didomi_Field_Mapping__c', connection(rows)), undefined, jest.fn().mockResolvedValue(undefined));
  await flush();
  return el;
}

describe('c-didomi-mapping-editor: Consent Model', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });

  it('asks for the data use purpose and channel instead of a field, and saves what the middleware reads', async () => {
    const el = await setup();
    change(field(el, 'kind'), 'Consent Model');
    await flush();
    expect(field(el, 'field')).toBeNull();
    expect(field(el, 'invert')).toBeNull();
    expect(field(el, 'contactPointType').options.map((o: any) => o.value)).toEqual(['Email', 'MailingAddress', 'Phone', 'Social', 'Web']);
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect(createRecord).not.toHaveBeenCalled();
    expect($(el, '[data-id="form-error"]').textContent).toBe('c.Didomi_Mapping_Required');
    change(field(el, 'purposeId'), 'marketing');
    change(field(el, 'dataUsePurpose'), ' Marketing ');
    change(field(el, 'contactPointType'), 'Email');
    await flush();
    $(el, '[data-id="save-mapping"]').click();
    await flush();
    expect(createRecord).toHaveBeenCalledWith({
      apiName: 'Didomi_Field_Mapping__c',
      fields: {
        Target__c: TARGET_ID,
        Kind__c: 'Consent Model',
        Active__c: true,
        Purpose_Id__c: 'marketing',
        Preference_Id__c: null,
        Value_Id__c: null,
        Attribute_Path__c: null,
        Field_Api_Name__c: 'IndividualId',
        Invert__c: false,
        Value_Labels__c: null,
        Regulation__c: null,
        Data_Use_Purpose__c: 'Marketing',
        Contact_Point_Type__c: 'Email',
      },
    });
    await expect(el).toBeAccessible();
  });

  it('lists a saved Consent Model mapping with its purpose and channel', async () => {
    const el = await setup([
      {
        Id: 'a01000000000009AAA',
        Kind__c: 'Consent Model',
        Purpose_Id__c: 'marketing',
        Preference_Id__c: null,
        Value_Id__c: null,
        Attribute_Path__c: null,
        Field_Api_Name__c: 'IndividualId',
        Invert__c: false,
        Value_Labels__c: null,
        Regulation__c: 'gdpr',
        Data_Use_Purpose__c: 'Marketing',
        Contact_Point_Type__c: 'Phone',
      },
    ]);
    const rows = $$(el, 'tbody tr');
    expect(rows).toHaveLength(1);
    expect(rows[0].textContent).toContain('marketing → Marketing / Phone');
  });
});
