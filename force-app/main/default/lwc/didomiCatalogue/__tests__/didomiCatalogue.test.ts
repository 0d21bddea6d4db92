// The catalogue's query and the mapping of its wire result (c/didomiCatalogue), shared by the mapping
// editor and the connector import: rows in, names in the Salesforce user's language out.
import { gql } from 'lightning/graphql';
import { catalogueOf } from 'c/didomiCatalogue';
import { connection, gqlData } from '../../../../../../test/jest-fixtures/dom';
import { catalogueEntry } from '../../../../../../test/jest-fixtures/catalogue';

// The user's language in Salesforce (https://developer.salesforce.com/docs/platform/lwc/guide/create-i18n.html).
jest.mock('@salesforce/i18n/lang', () => ({ __esModule: true, default: 'fr-FR' }), { virtual: true });

const entry = (
  Kind__c: string,
  Didomi_Id__c: string,
  names: Record<string, string>,
  Preference_Id__c: string | null = null,
  seen = '2026-11-25T10:00:00.000Z',
) => catalogueEntry(Kind__c, Didomi_Id__c, names, Preference_Id__c, seen);
const ROWS = [
  entry('Purpose', 'marketing-9HmMn6Vt', { en: 'Marketing', fr: 'Prospection' }),
  entry('Purpose', 'old-purpose', { en: 'Old' }, null, '2026-11-20T10:00:00.000Z'),
  entry('Preference', 'CFWKNVJV', { en: 'Topics', fr: 'Sujets' }),
  entry('Preference Value', 'dK7rBBXk', { en: 'Offers', fr: 'Offres' }, 'CFWKNVJV'),
];
const result = (rows: Record<string, unknown>[]) => ({ data: gqlData('Didomi_Catalogue_Entry__c', connection(rows)) });

describe('c/didomiCatalogue: the catalogue wire', () => {
  it('the query selects every field the mapping reads, from Didomi_Catalogue_Entry__c', () => {
    // gql is sfdx-lwc-jest's mock: the module called it once, with the query's text, when it loaded.
    const texts = (gql as unknown as jest.Mock).mock.calls.map((c) => (c[0] as string[]).join(''));
    const query = texts.find((t) => t.includes('query didomiCatalogue'));
    expect(query).toBeDefined();
    expect(query).toMatch(/Didomi_Catalogue_Entry__c\(first: 2000\)/);
    for (const field of ['Id', 'Name', 'Kind__c', 'Didomi_Id__c', 'Preference_Id__c', 'Names__c', 'Last_Seen_At__c'])
      expect(query).toMatch(new RegExp(`\\b${field}\\b`));
  });

  it('maps the rows into purposes and preferences with their values, names in the Salesforce user’s language, removed entries marked', () => {
    expect(catalogueOf(result(ROWS))).toEqual({
      purposes: [
        { id: 'old-purpose', name: 'Old', removed: true },
        { id: 'marketing-9HmMn6Vt', name: 'Prospection' },
      ],
      preferences: [{ id: 'CFWKNVJV', name: 'Sujets', values: [{ id: 'dK7rBBXk', name: 'Offres' }] }],
    });
    expect(catalogueOf(result(ROWS), 'en')?.purposes.map((p) => p.name)).toEqual(['Marketing', 'Old']);
  });

  it('is undefined until the rows have arrived (the wire’s first, empty value; an error), so a component keeps what it had', () => {
    expect(catalogueOf(undefined)).toBeUndefined();
    expect(catalogueOf({ data: undefined, errors: undefined })).toBeUndefined();
    expect(catalogueOf({ data: undefined, errors: [{ message: 'No such column' }] })).toBeUndefined();
    expect(catalogueOf(result([]))).toEqual({ purposes: [], preferences: [] });
  });
});
