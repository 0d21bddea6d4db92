// The admin tab: health, targets and mappings, and the dead-letter queue, one tab each.
import { LightningElement } from 'lwc';
import { LABELS } from 'c/didomiSyncLabels';

export default class DidomiSyncAdmin extends LightningElement {
  labels = LABELS;
  activeTab = 'status';

  /** The status panel's "open the queue" link. */
  handleOpenQueue() {
    this.activeTab = 'errors';
  }
  handleTab(event: Event) {
    this.activeTab = (event.target as HTMLElement & { value: string }).value;
  }
}
