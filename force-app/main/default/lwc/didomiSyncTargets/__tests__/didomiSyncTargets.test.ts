import { graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord, updateRecord } from 'lightning/uiRecordApi';
import DidomiSyncTargets from 'c/didomiSyncTargets';
import { $, $$, change, connection, flush, gqlData, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';
import { LEAD_INFO } from '../../../../../../test/jest-fixtures/objectInfo';

const CONTACT_TARGET = {
  Id: 'a00000000000001AAA',
  Object__c: 'Contact',
  Active__c: true,
  Upsert_Mode__c: false,
  Match_Field__c: 'Email',
  Creation_Defaults__c: null,
  Deletion_Behavior__c: 'Clear Consent Fields',
};

function emitTargets(rows: Record<string, unknown>[], refresh?: () => Promise<void>) {
  // Several graphql wires can be connected (the mapping editor's too): target this component's query only.
  (graphql as any).emit(gqlData('Didomi_Sync_Target__c', connection(rows)), (config: any) => !config.variables, refresh);
}

const form = (el: Element) => $(el, '[data-id="target-form"]');
const input = (el: Element, field: string) => form(el).querySelector(`[data-field="${field}"]`);

describe('c-didomi-sync-targets', () => {
  afterEach(() => {
    unmountAll();
    jest.clearAllMocks();
  });

  it('shows an empty state that says what a target is for', async () => {
    const el = mount('c-didomi-sync-targets', DidomiSyncTargets);
    emitTargets([]);
    await flush();
    expect($(el, '[data-id="empty"]').textContent).toBe('c.Didomi_Targets_Empty');
    await expect(el).toBeAccessible();
  });

  it('lists the targets', async () => {
    const el = mount('c-didomi-sync-targets', DidomiSyncTargets);
    emitTargets([CONTACT_TARGET]);
    await flush();
    const rows = $$(el, 'tbody tr');
    expect(rows).toHaveLength(1);
    expect(rows[0].dataset.object).toBe('Contact');
    expect(rows[0].textContent).toContain('Clear Consent Fields');
    await expect(el).toBeAccessible();
  });

  it('creates a Lead target with upsert defaults, refusing first an upsert without them', async () => {
    const el = mount('c-didomi-sync-targets', DidomiSyncTargets);
    const refresh = jest.fn().mockResolvedValue(undefined);
    emitTargets([CONTACT_TARGET], refresh);
    await flush();
    $(el, '[data-id="new-target"]').click();
    await flush();
    change(input(el, 'object'), 'Lead');
    await flush();
    expect((getObjectInfo as any).getLastConfig()).toEqual({ objectApiName: 'Lead' });
    (getObjectInfo as any).emit(LEAD_INFO);
    await flush();
    expect(input(el, 'matchField').options.map((o: any) => o.value)).toEqual(['City', 'Company', 'Email', 'LastName', 'Newsletter_Topics__c']);
    change(input(el, 'upsertMode'), true);
    await flush();
    $(el, '[data-id="save-target"]').click();
    await flush();
    expect($(el, '[data-id="form-error"]').textContent).toBe('c.Didomi_Target_Missing_Defaults');
    expect(createRecord).not.toHaveBeenCalled();

    change(input(el, 'creationDefaults'), '{"Company": "Unknown", "LastName": "Unknown"}');
    change(input(el, 'deletionBehavior'), 'Delete Record');
    await flush();
    $(el, '[data-id="save-target"]').click();
    await flush();
    expect(createRecord).toHaveBeenCalledWith({
      apiName: 'Didomi_Sync_Target__c',
      fields: {
        Name: 'Lead target',
        Object__c: 'Lead',
        Active__c: true,
        Upsert_Mode__c: true,
        Match_Field__c: 'Email',
        Creation_Defaults__c: '{"Company": "Unknown", "LastName": "Unknown"}',
        Deletion_Behavior__c: 'Delete Record',
      },
    });
    expect(refresh).toHaveBeenCalled();
    expect(form(el)).toBeNull();
  });

  it('refuses a second target for the same object', async () => {
    const el = mount('c-didomi-sync-targets', DidomiSyncTargets);
    emitTargets([CONTACT_TARGET]);
    await flush();
    $(el, '[data-id="new-target"]').click();
    await flush();
    change(input(el, 'object'), 'Contact');
    await flush();
    $(el, '[data-id="save-target"]').click();
    await flush();
    expect($(el, '[data-id="form-error"]').textContent).toBe('c.Didomi_Target_Duplicate');
    expect(createRecord).not.toHaveBeenCalled();
    await expect(el).toBeAccessible();
  });

  it('edits a target with updateRecord and shows what the server refused', async () => {
    const el = mount('c-didomi-sync-targets', DidomiSyncTargets);
    emitTargets([CONTACT_TARGET]);
    await flush();
    $(el, 'lightning-button[data-action="edit"]').click();
    await flush();
    expect(input(el, 'object').disabled).toBe(true);
    change(input(el, 'active'), false);
    (updateRecord as jest.Mock).mockRejectedValueOnce({ body: { message: 'Insufficient access rights on object id' } });
    $(el, '[data-id="save-target"]').click();
    await flush();
    expect(updateRecord).toHaveBeenCalledWith({
      fields: {
        Id: CONTACT_TARGET.Id,
        Name: 'Contact target',
        Object__c: 'Contact',
        Active__c: false,
        Upsert_Mode__c: false,
        Match_Field__c: 'Email',
        Creation_Defaults__c: null,
        Deletion_Behavior__c: 'Clear Consent Fields',
      },
    });
    expect($(el, '[data-id="form-error"]').textContent).toBe('Insufficient access rights on object id');
  });

  it('opens the mapping editor of the chosen target', async () => {
    const el = mount('c-didomi-sync-targets', DidomiSyncTargets);
    emitTargets([CONTACT_TARGET]);
    await flush();
    expect($(el, 'c-didomi-mapping-editor')).toBeNull();
    $(el, 'lightning-button[data-action="mappings"]').click();
    await flush();
    const editor = $(el, 'c-didomi-mapping-editor');
    expect(editor.targetId).toBe(CONTACT_TARGET.Id);
    expect(editor.objectApiName).toBe('Contact');
  });
});
