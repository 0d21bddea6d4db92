// Kind "Consent Model" (issue 16): a Didomi purpose recorded as a ContactPointTypeConsent; the tab
// asks for the purpose id, a DataUsePurpose name and a contact point type, and no field.
import { emptyMapping, validateMapping, MAPPING_KINDS, CONTACT_POINT_TYPES } from 'c/didomiSyncRules';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';
import { MAPPING_KINDS as MIDDLEWARE_KINDS, CONTACT_POINT_TYPES as MIDDLEWARE_CHANNELS } from '../../../../../../middleware/src/salesforce/api-names.ts';

const draft = (o: Record<string, unknown> = {}) => ({
  ...emptyMapping(),
  kind: 'Consent Model' as const,
  purposeId: 'marketing',
  dataUsePurpose: 'Marketing',
  contactPointType: 'Email',
  ...o,
});

describe('didomiSyncRules: Consent Model', () => {
  it('offers the same kinds and channels as the middleware reads', () => {
    expect(MAPPING_KINDS).toEqual([...MIDDLEWARE_KINDS]);
    expect(CONTACT_POINT_TYPES).toEqual([...MIDDLEWARE_CHANNELS]);
  });

  it('needs a purpose id, a data use purpose and a contact point type, and no field', () => {
    expect(validateMapping(draft(), LEAD_INFO, [])).toBeNull();
    expect(validateMapping(draft({ dataUsePurpose: ' ' }), LEAD_INFO, [])).toBe('c.Didomi_Mapping_Required');
    expect(validateMapping(draft({ purposeId: '' }), LEAD_INFO, [])).toBe('c.Didomi_Mapping_Required');
    expect(validateMapping(draft({ contactPointType: 'Fax' }), LEAD_INFO, [])).toBe('c.Didomi_Mapping_Required');
  });

  it('refuses a second mapping to the same purpose and channel (case-insensitive name), allows another channel', () => {
    const saved = { ...draft(), id: 'a01000000000001AAA', field: 'IndividualId' };
    expect(validateMapping(draft({ dataUsePurpose: 'MARKETING' }), LEAD_INFO, [saved])).toBe('c.Didomi_Mapping_Duplicate_Source');
    expect(validateMapping(draft({ contactPointType: 'Phone' }), LEAD_INFO, [saved])).toBeNull();
    expect(validateMapping({ ...saved, contactPointType: 'Email' }, LEAD_INFO, [saved])).toBeNull();
  });
});
