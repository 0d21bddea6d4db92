import {
  ageText,
  emptyMapping,
  fieldOptions,
  fieldTypeAllowed,
  isStale,
  listResult,
  nodes,
  reduceErrors,
  requiredOnCreate,
  validateMapping,
  validateTarget,
  emptyTarget,
} from 'c/didomiSyncRules';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';
// The middleware refuses the same mappings when it loads the configuration: both tables must agree.
import { fieldTypeAllowed as middlewareAllows } from '../../../../../../middleware/src/sync/project.ts';

// In Jest, custom labels resolve to their names ("c.Didomi_..."): the assertions check which message was chosen.
describe('didomiSyncRules', () => {
  it("applies Didomi's field-type rules (reference/didomi.md: purpose and preference value -> Boolean, preference -> string)", () => {
    expect(fieldTypeAllowed('Purpose', 'Boolean')).toBe(true);
    expect(fieldTypeAllowed('Purpose', 'String')).toBe(false);
    expect(fieldTypeAllowed('Preference Value', 'Boolean')).toBe(true);
    expect(fieldTypeAllowed('Preference', 'MultiPicklist')).toBe(true);
    expect(fieldTypeAllowed('Preference', 'Boolean')).toBe(false);
    expect(fieldTypeAllowed('User Attribute', 'Email')).toBe(true);
    expect(fieldTypeAllowed('User Attribute', 'DateTime')).toBe(false);
  });

  it('agrees with the middleware on every kind and type (UI API dataType vs describe type)', () => {
    const describeType: Record<string, string> = {
      Boolean: 'boolean',
      String: 'string',
      TextArea: 'textarea',
      Picklist: 'picklist',
      MultiPicklist: 'multipicklist',
      Email: 'email',
      Phone: 'phone',
      Double: 'double',
      Int: 'int',
      Date: 'date',
      DateTime: 'datetime',
      Reference: 'reference',
    };
    for (const kind of ['Purpose', 'Preference', 'Preference Value', 'User Attribute'] as const)
      for (const [uiType, type] of Object.entries(describeType))
        expect([kind, uiType, fieldTypeAllowed(kind, uiType)]).toEqual([kind, uiType, middlewareAllows(kind, type)]);
  });

  it('offers only updateable fields of an allowed type, filtered by the search text', () => {
    const purposes = fieldOptions(LEAD_INFO, 'Purpose').map((o) => o.value);
    expect(purposes).toEqual(['HasOptedOutOfEmail', 'Marketing_Consent__c']);
    expect(purposes).not.toContain('IsConverted'); // a checkbox, but not updateable
    const prefs = fieldOptions(LEAD_INFO, 'Preference', 'topic').map((o) => o.value);
    expect(prefs).toEqual(['Newsletter_Topics__c']);
    expect(fieldOptions(LEAD_INFO, '')).toEqual([]);
    expect(fieldOptions(undefined, 'Purpose')).toEqual([]);
  });

  it('refuses incomplete, incompatible and duplicate mappings before anything is saved', () => {
    const purpose = { ...emptyMapping(), kind: 'Purpose' as const, purposeId: 'marketing', field: 'Marketing_Consent__c' };
    expect(validateMapping(purpose, LEAD_INFO, [])).toBeNull();
    expect(validateMapping({ ...purpose, purposeId: ' ' }, LEAD_INFO, [])).toBe('c.Didomi_Mapping_Required');
    expect(validateMapping({ ...purpose, kind: '' }, LEAD_INFO, [])).toBe('c.Didomi_Mapping_Required');
    expect(validateMapping({ ...purpose, field: 'Newsletter_Topics__c' }, LEAD_INFO, [])).toBe('c.Didomi_Mapping_Incompatible');
    expect(validateMapping({ ...purpose, field: 'Nope__c' }, LEAD_INFO, [])).toBe('c.Didomi_Mapping_Unknown_Field');
    expect(validateMapping({ ...purpose, field: 'IsConverted' }, LEAD_INFO, [])).toBe('c.Didomi_Mapping_Unknown_Field');
    expect(validateMapping(purpose, LEAD_INFO, [{ ...purpose, purposeId: 'other' }])).toBe('c.Didomi_Mapping_Duplicate_Field');
    expect(validateMapping(purpose, LEAD_INFO, [{ ...purpose, field: 'HasOptedOutOfEmail' }])).toBe('c.Didomi_Mapping_Duplicate_Source');
    const pref = { ...emptyMapping(), kind: 'Preference' as const, purposeId: 'p', preferenceId: 'topics', field: 'Newsletter_Topics__c' };
    expect(validateMapping(pref, LEAD_INFO, [])).toBeNull();
    expect(validateMapping({ ...pref, preferenceId: '' }, LEAD_INFO, [])).toBe('c.Didomi_Mapping_Required');
    expect(validateMapping({ ...pref, valueLabels: '["x"]' }, LEAD_INFO, [])).toBe('c.Didomi_Mapping_Bad_Labels');
    expect(validateMapping({ ...pref, valueLabels: '{"a": "Weekly"}' }, LEAD_INFO, [])).toBeNull();
    const attr = { ...emptyMapping(), kind: 'User Attribute' as const, attributePath: 'city', field: 'City' };
    expect(validateMapping(attr, LEAD_INFO, [])).toBeNull();
  });

  it('refuses a second target for one object, bad JSON defaults and an upsert that could not create records', () => {
    const lead = { ...emptyTarget(), object: 'Lead' };
    expect(validateTarget(lead, [], LEAD_INFO)).toBeNull();
    expect(validateTarget({ ...lead, object: '' }, [], LEAD_INFO)).toBe('c.Didomi_Mapping_Required');
    expect(validateTarget(lead, [{ ...lead, id: 'a01' }], LEAD_INFO)).toBe('c.Didomi_Target_Duplicate');
    expect(validateTarget({ ...lead, id: 'a01' }, [{ ...lead, id: 'a01' }], LEAD_INFO)).toBeNull();
    expect(validateTarget({ ...lead, matchField: '' }, [], LEAD_INFO)).toBe('c.Didomi_Target_Missing_Match');
    expect(validateTarget({ ...lead, creationDefaults: '{oops' }, [], LEAD_INFO)).toBe('c.Didomi_Target_Bad_Defaults');
    expect(requiredOnCreate(LEAD_INFO)).toEqual(['Company', 'LastName']);
    expect(validateTarget({ ...lead, upsertMode: true }, [], LEAD_INFO)).toBe('c.Didomi_Target_Missing_Defaults');
    expect(validateTarget({ ...lead, upsertMode: true, creationDefaults: '{"Company": "Unknown", "LastName": "Unknown"}' }, [], LEAD_INFO)).toBeNull();
  });

  it('reads a list wire result: the connection once it arrived, or the error to show; nothing while it loads', () => {
    const conn = { edges: [] };
    expect(listResult({ data: { uiapi: { query: { Didomi_Sync_Target__c: conn } } } }, 'Didomi_Sync_Target__c')).toEqual({ connection: conn, error: '' });
    expect(listResult({ data: undefined, errors: [{ message: 'Invalid field' }] }, 'Didomi_Sync_Target__c')).toEqual({
      connection: null,
      error: 'Invalid field',
    });
    expect(listResult({ data: undefined }, 'Didomi_Sync_Target__c')).toBeNull(); // the wire's first, empty value
    expect(listResult({ data: { uiapi: { query: {} } } }, 'Didomi_Sync_Target__c')).toBeNull();
  });

  it('flattens GraphQL connections and tells a stale heartbeat', () => {
    const rows = nodes({ edges: [{ node: { Id: 'a01', Name: { value: 'x', displayValue: null }, Count__c: { value: 3 } } }] });
    expect(rows).toEqual([{ Id: 'a01', Name: 'x', Count__c: 3 }]);
    expect(nodes(undefined)).toEqual([]);
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(isStale('2026-11-24T11:59:00.000Z', now)).toBe(false);
    expect(isStale('2026-11-24T11:50:00.000Z', now)).toBe(true);
    expect(isStale(null, now)).toBe(true);
    expect(ageText(45_000)).toBe('45 s');
    expect(ageText(10 * 60_000)).toBe('10 min');
    expect(ageText(5 * 3600_000)).toBe('5 h');
  });

  it('reduces LDS, UI API and GraphQL errors to one readable message', () => {
    expect(reduceErrors({ body: { message: 'Insufficient access' } })).toBe('Insufficient access');
    expect(reduceErrors([{ body: [{ message: 'A' }, { message: 'B' }] }])).toBe('A B');
    expect(
      reduceErrors({
        body: { message: 'generic', output: { errors: [], fieldErrors: { Kind__c: [{ message: 'Kind: bad value for restricted picklist field' }] } } },
      }),
    ).toBe('Kind: bad value for restricted picklist field');
    expect(reduceErrors([{ message: 'Validation error of type FieldUndefined' }])).toBe('Validation error of type FieldUndefined');
    expect(reduceErrors(undefined)).toBe('');
  });
});
