// Guided targets: one target per object (taken objects are not offered), each target's mapping
// count with a flag on an active target that maps nothing, and a new target opening its mappings.
import { graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord } from 'lightning/uiRecordApi';
import DidomiSyncTargets from 'c/didomiSyncTargets';
import { $, $$, change, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';

const target = (Id: string, Object__c: string, Active__c = true) => ({
  Id,
  Object__c,
  Active__c,
  Upsert_Mode__c: false,
  Match_Field__c: 'Email',
  Creation_Defaults__c: null,
  Deletion_Behavior__c: 'Ignore',
});
const CONTACT = target('a00000000000001AAA', 'Contact');
const ACCOUNT = target('a00000000000003AAA', 'Account');
const INACTIVE_LEAD = target('a00000000000004AAA', 'Lead', false);

const own = (config: any) => !config?.variables;
async function setup(targets: Record<string, unknown>[], counts: [string, number][]) {
  const el = mount('c-didomi-sync-targets', DidomiSyncTargets);
  await flush();
  (graphql as any).emit(gqlData('Didomi_Sync_Target__c', connection(targets)), own);
  const edges = counts.map(([id, n]) => ({ node: { aggregate: { Target__c: { value: id }, Id: { count: { value: n } } } } }));
  (graphql as any).emit({ uiapi: { aggregate: { Didomi_Field_Mapping__c: { edges } } } }, own);
  await flush();
  return el;
}
const row = (el: Element, object: string) => $(el, `tr[data-object="${object}"]`);

describe('c-didomi-sync-targets, guided', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });

  it('shows each target’s mapping count and flags an active target that maps nothing', async () => {
    const el = await setup([CONTACT, ACCOUNT, INACTIVE_LEAD], [[CONTACT.Id, 6]]);
    expect(row(el, 'Contact').querySelector('[data-id="mapping-count"]').textContent).toBe('6');
    expect(row(el, 'Contact').querySelector('[data-id="no-mappings"]')).toBeNull();
    expect(row(el, 'Account').querySelector('[data-id="mapping-count"]').textContent).toBe('0c.Didomi_Target_No_Mappings');
    expect(row(el, 'Lead').querySelector('[data-id="no-mappings"]')).toBeNull(); // inactive: nothing to flag
    await expect(el).toBeAccessible();
  });

  it('offers only objects without a target for a new one; editing keeps its own object', async () => {
    const el = await setup([CONTACT, ACCOUNT], []);
    $(el, '[data-id="new-target"]').click();
    await flush();
    expect($(el, '[data-id="target-form"] [data-field="object"]').options.map((o: any) => o.value)).toEqual(['Lead']);
    $(el, 'tr[data-object="Contact"] lightning-button[data-action="edit"]').click();
    await flush();
    expect($(el, '[data-id="target-form"] [data-field="object"]').options.map((o: any) => o.value)).toEqual(['Lead', 'Contact']);
  });

  it('opens the mappings of a target just created', async () => {
    const el = await setup([CONTACT], [[CONTACT.Id, 2]]);
    $(el, '[data-id="new-target"]').click();
    await flush();
    change($(el, '[data-id="target-form"] [data-field="object"]'), 'Lead');
    await flush();
    (getObjectInfo as any).emit(LEAD_INFO);
    (createRecord as jest.Mock).mockResolvedValueOnce({ id: 'a00000000000009AAA' });
    $(el, '[data-id="save-target"]').click();
    await flush();
    expect(createRecord).toHaveBeenCalled();
    // the refreshed list brings the new target
    (graphql as any).emit(gqlData('Didomi_Sync_Target__c', connection([CONTACT, target('a00000000000009AAA', 'Lead')])), own);
    await flush();
    const editor = $(el, 'c-didomi-mapping-editor');
    expect(editor.targetId).toBe('a00000000000009AAA');
    expect(editor.objectApiName).toBe('Lead');
    expect($$(el, '[data-id="target-form"]')).toHaveLength(0);
  });
});

describe('c-didomi-sync-targets, typed creation defaults', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });

  it('in upsert mode, one typed input per field the object requires on create fills the defaults', async () => {
    const el = await setup([CONTACT], []);
    $(el, '[data-id="new-target"]').click();
    await flush();
    change($(el, '[data-id="target-form"] [data-field="object"]'), 'Lead');
    await flush();
    (getObjectInfo as any).emit(LEAD_INFO);
    await flush();
    expect($$(el, '[data-default]')).toHaveLength(0); // not without upsert mode
    change($(el, '[data-id="target-form"] [data-field="upsertMode"]'), true);
    await flush();
    const inputs = $$(el, '[data-default]');
    expect(inputs.map((i) => [i.label, i.required])).toEqual([
      ['Company (Company)', true],
      ['Last Name (LastName)', true],
    ]);
    await expect(el).toBeAccessible();
    change(inputs[0], 'Unknown company');
    change(inputs[1], 'Unknown');
    await flush();
    expect($(el, '[data-id="target-form"] [data-field="creationDefaults"]').value).toBe('{"Company":"Unknown company","LastName":"Unknown"}');
    (createRecord as jest.Mock).mockResolvedValueOnce({ id: 'a00000000000010AAA' });
    $(el, '[data-id="save-target"]').click();
    await flush();
    expect((createRecord as jest.Mock).mock.calls[0][0].fields).toMatchObject({
      Object__c: 'Lead',
      Upsert_Mode__c: true,
      Creation_Defaults__c: '{"Company":"Unknown company","LastName":"Unknown"}',
    });
  });
});
