// Sync targets (Lead, Contact, Account): list, create and edit Didomi_Sync_Target__c records, and
// open the mapping editor of one. Reads through GraphQL, writes through uiRecordApi.
import { LightningElement, wire } from 'lwc';
import { gql, graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord, updateRecord } from 'lightning/uiRecordApi';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import { LABELS } from 'c/didomiSyncLabels';
import {
  DELETION_BEHAVIORS,
  TARGET_OBJECTS,
  changedValue,
  emptyTarget,
  listResult,
  nodes,
  reduceErrors,
  requiredOnCreate,
  validateTarget,
  type TargetDraft,
} from 'c/didomiSyncRules';

const MATCH_TYPES = ['String', 'Email', 'Phone'];

function toDraft(row: Record<string, any>): TargetDraft {
  return {
    id: row.Id,
    object: row.Object__c ?? '',
    active: !!row.Active__c,
    upsertMode: !!row.Upsert_Mode__c,
    matchField: row.Match_Field__c ?? '',
    creationDefaults: row.Creation_Defaults__c ?? '',
    deletionBehavior: row.Deletion_Behavior__c ?? 'Ignore',
  };
}

function toFields(d: TargetDraft): Record<string, unknown> {
  return {
    Name: `${d.object} target`,
    Object__c: d.object,
    Active__c: d.active,
    Upsert_Mode__c: d.upsertMode,
    Match_Field__c: d.matchField.trim(),
    Creation_Defaults__c: d.creationDefaults.trim() || null,
    Deletion_Behavior__c: d.deletionBehavior,
  };
}

export default class DidomiSyncTargets extends LightningElement {
  labels = LABELS;
  result?: GraphQLResult;
  targets: TargetDraft[] = [];
  loaded = false;
  loadError = '';
  draft: TargetDraft | null = null;
  formError = '';
  saving = false;
  selectedId: string | null = null;
  objectInfo?: UiObjectInfo;

  @wire(graphql, {
    query: gql`
      query didomiSyncTargets {
        uiapi {
          query {
            Didomi_Sync_Target__c(first: 50, orderBy: { CreatedDate: { order: ASC } }) {
              edges {
                node {
                  Id
                  Object__c {
                    value
                  }
                  Active__c {
                    value
                  }
                  Upsert_Mode__c {
                    value
                  }
                  Match_Field__c {
                    value
                  }
                  Creation_Defaults__c {
                    value
                  }
                  Deletion_Behavior__c {
                    value
                  }
                }
              }
            }
          }
        }
      }
    `,
  })
  wiredTargets(result: GraphQLResult) {
    this.result = result;
    const list = listResult(result, 'Didomi_Sync_Target__c');
    if (!list) return;
    if (list.connection) this.targets = nodes(list.connection).map(toDraft);
    this.loadError = list.error;
    this.loaded = true;
  }

  /** Mappings per target id, from the GraphQL API's aggregate grouped on the master-detail (API v58.0+). */
  mappingCounts = new Map<string, number>();
  countsResult?: GraphQLResult;

  @wire(graphql, {
    query: gql`
      query didomiMappingCounts {
        uiapi {
          aggregate {
            Didomi_Field_Mapping__c(groupBy: { Target__c: { group: true } }, first: 200) {
              edges {
                node {
                  aggregate {
                    Target__c {
                      value
                    }
                    Id {
                      count {
                        value
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    `,
  })
  wiredCounts(result: GraphQLResult) {
    this.countsResult = result;
    const edges: any[] | undefined = result.data?.uiapi?.aggregate?.Didomi_Field_Mapping__c?.edges;
    if (edges) this.mappingCounts = new Map(edges.map((e) => [e.node.aggregate.Target__c.value, Number(e.node.aggregate.Id.count.value)]));
  }

  // Describes the object being edited: match-field choices and the fields an upsert must default.
  @wire(getObjectInfo, { objectApiName: '$draftObject' })
  wiredObjectInfo({ data, error }: { data?: UiObjectInfo; error?: LdsError }) {
    if (data) this.objectInfo = data;
    else if (error) this.formError = reduceErrors(error);
  }

  get draftObject() {
    return this.draft?.object || undefined;
  }
  get loading() {
    return !this.loaded;
  }
  get empty() {
    return this.loaded && !this.loadError && this.targets.length === 0;
  }
  get rows() {
    return this.targets.map((t) => ({
      ...t,
      key: t.id,
      activeText: t.active ? LABELS.Yes : LABELS.No,
      upsertText: t.upsertMode ? LABELS.Yes : LABELS.No,
      rowClass: t.id === this.selectedId ? 'slds-hint-parent slds-is-selected' : 'slds-hint-parent',
      mappingCount: this.mappingCounts.get(t.id!) ?? 0,
      // Active with nothing mapped: the middleware matches records but writes no consent.
      noMappings: t.active && !(this.mappingCounts.get(t.id!) ?? 0),
      mappingsLabel: `${LABELS.Target_Manage_Mappings}: ${t.object}`,
      editLabel: `${LABELS.Target_Edit}: ${t.object}`,
    }));
  }
  get selectedTarget() {
    return this.targets.find((t) => t.id === this.selectedId) ?? null;
  }
  /** One target per object: objects that have one are not offered for a new target. */
  get objectOptions() {
    const taken = new Set(this.targets.filter((t) => t.id !== this.draft?.id).map((t) => t.object));
    return TARGET_OBJECTS.filter((o) => !taken.has(o)).map((o) => ({ label: o, value: o }));
  }
  get deletionOptions() {
    return DELETION_BEHAVIORS.map((o) => ({ label: o, value: o }));
  }
  get matchFieldOptions() {
    const info = this.objectInfo?.apiName === this.draft?.object ? this.objectInfo : undefined;
    const fields = info ? Object.values(info.fields).filter((f) => MATCH_TYPES.includes(f.dataType) && (f.createable || f.updateable)) : [];
    const options = fields.map((f) => ({ label: `${f.label} (${f.apiName})`, value: f.apiName })).sort((a, b) => a.label.localeCompare(b.label));
    // Keep the saved value choosable even before the describe arrives.
    if (this.draft?.matchField && !options.some((o) => o.value === this.draft!.matchField))
      options.unshift({ label: this.draft.matchField, value: this.draft.matchField });
    return options;
  }
  /** The creation defaults as an object ({} while the JSON is being typed or is invalid). */
  get defaultsObject(): Record<string, unknown> {
    try {
      const v = JSON.parse(this.draft?.creationDefaults || '{}');
      return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    } catch {
      return {};
    }
  }
  /** Upsert mode: one typed input per field the object requires on create (the match field is filled from Didomi). */
  get requiredInputs() {
    const info = this.objectInfo?.apiName === this.draft?.object ? this.objectInfo : undefined;
    if (!this.draft?.upsertMode || !info) return [];
    const defaults = this.defaultsObject;
    return requiredOnCreate(info)
      .filter((f) => f !== this.draft!.matchField)
      .map((f) => ({ name: f, label: `${info.fields[f].label} (${f})`, value: defaults[f] === undefined ? '' : String(defaults[f]) }));
  }
  handleDefault(event: Event) {
    const name = (event.target as HTMLElement).dataset.default!;
    const value = String(changedValue(event) ?? '');
    const defaults = { ...this.defaultsObject };
    if (value.trim()) defaults[name] = value;
    else delete defaults[name];
    this.draft = { ...this.draft!, creationDefaults: Object.keys(defaults).length ? JSON.stringify(defaults) : '' };
    this.formError = '';
  }
  get defaultsPlaceholder() {
    return '{"Company": "Unknown", "LastName": "Unknown"}';
  }
  get editingExisting() {
    return !!this.draft?.id;
  }

  handleNew() {
    this.draft = emptyTarget();
    this.formError = '';
  }

  handleEdit(event: Event) {
    const id = (event.currentTarget as HTMLElement).dataset.id;
    const t = this.targets.find((x) => x.id === id);
    if (t) {
      this.draft = { ...t };
      this.formError = '';
    }
  }

  handleMappings(event: Event) {
    this.selectedId = (event.currentTarget as HTMLElement).dataset.id ?? null;
  }

  handleCancel() {
    this.draft = null;
    this.formError = '';
  }

  handleChange(event: Event) {
    const name = (event.target as HTMLElement).dataset.field as keyof TargetDraft;
    this.draft = { ...this.draft!, [name]: changedValue(event) } as TargetDraft;
    this.formError = '';
  }

  async handleSave() {
    const draft = this.draft!;
    const info = this.objectInfo?.apiName === draft.object ? this.objectInfo : undefined;
    const problem = validateTarget(draft, this.targets, info);
    if (problem) {
      this.formError = problem;
      return;
    }
    this.saving = true;
    try {
      if (draft.id) await updateRecord({ fields: { Id: draft.id, ...toFields(draft) } });
      else {
        const created = await createRecord({ apiName: 'Didomi_Sync_Target__c', fields: toFields(draft) });
        this.selectedId = created?.id ?? this.selectedId; // a new target opens its mappings
      }
      this.dispatchEvent(new ShowToastEvent({ title: LABELS.Target_Saved, message: draft.object, variant: 'success' }));
      this.draft = null;
      await Promise.all([this.result?.refresh?.(), this.countsResult?.refresh?.()]);
    } catch (e) {
      this.formError = reduceErrors(e);
    } finally {
      this.saving = false;
    }
  }
}
