// Didomi's names in the Salesforce user's language (@salesforce/i18n/lang, set in the user's personal
// settings: https://developer.salesforce.com/docs/platform/lwc/guide/create-i18n.html), whatever the
// browser's language. A file of its own: the module is read once when the component loads.
import { graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import DidomiMappingEditor from 'c/didomiMappingEditor';
import { $, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';
import { catalogueEntry } from '../../../../../../test/jest-fixtures/catalogue';

jest.mock('@salesforce/i18n/lang', () => ({ __esModule: true, default: 'fr-FR' }), { virtual: true });

const entry = (Kind__c: string, Didomi_Id__c: string, names: Record<string, string>, Preference_Id__c: string | null = null) =>
  catalogueEntry(Kind__c, Didomi_Id__c, names, Preference_Id__c, '2026-11-25T10:00:00.000Z');

describe('c-didomi-mapping-editor for a French-speaking Salesforce user', () => {
  const language = navigator.language;
  afterEach(() => {
    unmountAll();
    Object.defineProperty(navigator, 'language', { value: language, configurable: true });
  });

  it('shows Didomi’s French names even in an English browser', async () => {
    Object.defineProperty(navigator, 'language', { value: 'en-US', configurable: true });
    const el = mount('c-didomi-mapping-editor', DidomiMappingEditor, { targetId: 'a00000000000002AAA', objectApiName: 'Lead' });
    await flush();
    (getObjectInfo as any).emit(LEAD_INFO);
    const saved = {
      Id: 'a01000000000001AAA',
      Kind__c: 'Preference Value',
      Purpose_Id__c: 'marketing-9HmMn6Vt',
      Preference_Id__c: 'CFWKNVJV',
      Value_Id__c: 'dK7rBBXk',
      Field_Api_Name__c: 'Marketing_Consent__c',
    };
    (graphql as any).emit(gqlData('Didomi_Field_Mapping__c', connection([saved])), (c: any) => !!c?.variables);
    (graphql as any).emit(
      gqlData(
        'Didomi_Catalogue_Entry__c',
        connection([
          entry('Purpose', 'marketing-9HmMn6Vt', { en: 'Marketing', fr: 'Prospection' }),
          entry('Preference', 'CFWKNVJV', { en: 'Topics', fr: 'Sujets' }),
          entry('Preference Value', 'dK7rBBXk', { en: 'Offers', fr: 'Offres' }, 'CFWKNVJV'),
        ]),
      ),
      (c: any) => !c?.variables,
    );
    await flush();
    expect($(el, 'tr[data-field="Marketing_Consent__c"] td:nth-child(2)').textContent).toBe('Prospection › Sujets › Offres');
  });
});
