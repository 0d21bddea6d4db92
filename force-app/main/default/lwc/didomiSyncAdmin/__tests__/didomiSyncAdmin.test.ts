import DidomiSyncAdmin from 'c/didomiSyncAdmin';
import { $, $$, flush, mount, unmountAll } from '../../../../../../test/jest-fixtures/dom';

describe('c-didomi-sync-admin', () => {
  afterEach(unmountAll);

  it('puts status, targets and the error queue in one tab set', async () => {
    const el = mount('c-didomi-sync-admin', DidomiSyncAdmin);
    await flush();
    expect($(el, 'h1').textContent).toBe('c.Didomi_App_Title');
    expect($$(el, 'lightning-tab').map((t) => t.label)).toEqual(['c.Didomi_Tab_Status', 'c.Didomi_Tab_Targets', 'c.Didomi_Tab_Errors']);
    expect($(el, 'c-didomi-sync-status')).not.toBeNull();
    expect($(el, 'c-didomi-sync-targets')).not.toBeNull();
    expect($(el, 'c-didomi-error-queue')).not.toBeNull();
    await expect(el).toBeAccessible();
  });
});
