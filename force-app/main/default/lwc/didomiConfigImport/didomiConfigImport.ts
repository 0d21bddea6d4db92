// Import of Didomi's own Salesforce connector configuration (sf-sales-cloud), pasted or uploaded:
// the equivalent target and mappings, every field checked against getObjectInfo (the UI API's
// describe) and the target's existing mappings first, each refusal listed with its reason.
// Credentials in the file are ignored: this service authenticates with the JWT bearer flow.
import { LightningElement, wire } from 'lwc';
import { gql, graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord } from 'lightning/uiRecordApi';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import { LABELS, format } from 'c/didomiSyncLabels';
import { changedValue, nodes, reduceErrors } from 'c/didomiSyncRules';
// eslint-disable-next-line no-unused-vars -- used in type annotations only, which the LWC lint parser does not count
import type { MappingDraft } from 'c/didomiSyncRules';
import { CATALOGUE_QUERY, catalogueOf, sourceNames } from 'c/didomiCatalogue';
// eslint-disable-next-line no-unused-vars -- used in type annotations only, which the LWC lint parser does not count
import type { Catalogue } from 'c/didomiCatalogue';
import { checkRows, parseConnectorConfig, upsertRefusal } from './connectorConfig';
// eslint-disable-next-line no-unused-vars -- as above
import type { ImportRow, ParsedConfig } from './connectorConfig';

/** The mapping record a draft becomes (the same fields the mapping editor saves). */
function mappingFields(targetId: string, d: MappingDraft): Record<string, unknown> {
  const value = d.kind === 'Preference Value';
  return {
    Target__c: targetId,
    Kind__c: d.kind,
    Active__c: true,
    Purpose_Id__c: d.purposeId,
    Preference_Id__c: value ? d.preferenceId : null,
    Value_Id__c: value ? d.valueId : null,
    Attribute_Path__c: null,
    Field_Api_Name__c: d.field,
    Invert__c: d.invert,
    Value_Labels__c: null,
    Regulation__c: null,
  };
}

export default class DidomiConfigImport extends LightningElement {
  labels = LABELS;
  text = '';
  config: ParsedConfig | null = null;
  objectApiName?: string;
  objectInfo?: UiObjectInfo;
  targets: Record<string, any>[] = [];
  mappings: Record<string, any>[] = [];
  result?: GraphQLResult;
  error = '';
  done = '';
  busy = false;
  /** Didomi's catalogue when the middleware copied it: the rows show names, not ids. */
  catalogue: Catalogue = { purposes: [], preferences: [] };

  @wire(graphql, {
    query: gql`
      query didomiImportTargets {
        uiapi {
          query {
            Didomi_Sync_Target__c(first: 10) {
              edges {
                node {
                  Id
                  Object__c {
                    value
                  }
                }
              }
            }
            Didomi_Field_Mapping__c(first: 2000) {
              edges {
                node {
                  Id
                  Target__c {
                    value
                  }
                  Kind__c {
                    value
                  }
                  Purpose_Id__c {
                    value
                  }
                  Preference_Id__c {
                    value
                  }
                  Value_Id__c {
                    value
                  }
                  Attribute_Path__c {
                    value
                  }
                  Field_Api_Name__c {
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
    const q = result.data?.uiapi?.query;
    if (q?.Didomi_Sync_Target__c) {
      this.targets = nodes(q.Didomi_Sync_Target__c);
      this.mappings = nodes(q.Didomi_Field_Mapping__c);
    } else if (result.errors?.length) this.error = reduceErrors(result.errors);
  }

  @wire(graphql, { query: CATALOGUE_QUERY })
  wiredCatalogue(result: GraphQLResult) {
    this.catalogue = catalogueOf(result) ?? this.catalogue;
  }

  @wire(getObjectInfo, { objectApiName: '$objectApiName' })
  wiredObjectInfo({ data, error }: { data?: UiObjectInfo; error?: unknown }) {
    if (data) this.objectInfo = data;
    else if (error) this.error = reduceErrors(error);
  }

  get target() {
    return this.config ? this.targets.find((t) => t.Object__c === this.config!.object) : undefined;
  }
  /** The target's saved mappings, as drafts, for the duplicate checks. */
  get existing(): MappingDraft[] {
    const id = this.target?.Id;
    return this.mappings
      .filter((m) => id && m.Target__c === id)
      .map((m) => ({
        id: m.Id,
        kind: m.Kind__c,
        purposeId: m.Purpose_Id__c ?? '',
        preferenceId: m.Preference_Id__c ?? '',
        valueId: m.Value_Id__c ?? '',
        attributePath: m.Attribute_Path__c ?? '',
        dataUsePurpose: '',
        contactPointType: '',
        field: m.Field_Api_Name__c ?? '',
        invert: false,
        valueLabels: '',
        regulation: '',
        active: true,
      }));
  }
  /** Rows checked once the object's describe has arrived; null while it loads. */
  get rows(): ImportRow[] | null {
    if (!this.config || !this.objectInfo || this.objectInfo.apiName !== this.config.object) return null;
    return checkRows(this.config.rows, this.objectInfo, this.existing);
  }
  get checking() {
    return !!this.config && !this.rows && !this.error;
  }
  get tableRows() {
    return (this.rows ?? []).map((r) => ({
      key: String(r.index),
      field: r.field || '—',
      source: r.source || '—',
      importedAs: r.draft
        ? `${r.draft.kind} › ${sourceNames(this.catalogue, r.draft.purposeId, r.draft.preferenceId, r.draft.valueId, LABELS.Catalogue_Removed)}`
        : '—',
      outcome: r.refusal ?? (r.note ? `${LABELS.Import_Ok} (${r.note})` : LABELS.Import_Ok),
      outcomeClass: r.refusal ? 'slds-text-color_error' : 'slds-text-color_success',
      status: r.refusal ? 'refused' : 'ok',
    }));
  }
  get accepted() {
    return (this.rows ?? []).filter((r) => r.draft && !r.refusal);
  }
  get refusedCount() {
    return (this.rows ?? []).length - this.accepted.length;
  }
  get summary() {
    if (!this.rows || !this.config) return '';
    return format(LABELS.Import_Summary, this.accepted.length, this.refusedCount, this.config.object);
  }
  get targetText() {
    if (!this.config || !this.objectInfo) return '';
    if (this.target) return format(LABELS.Import_Existing_Target, this.config.object);
    const refusal = upsertRefusal(this.config, this.objectInfo);
    const upsert = this.config.upsertMode && !refusal;
    return [format(LABELS.Import_New_Target, this.config.object, upsert ? LABELS.Yes : LABELS.No), refusal].filter(Boolean).join(' ');
  }
  get importLabel() {
    return format(LABELS.Import_Button, this.accepted.length);
  }
  get nothingToImport() {
    return this.busy || this.accepted.length === 0;
  }

  handleText(event: Event) {
    this.text = String(changedValue(event) ?? '');
  }
  async handleFile(event: Event) {
    const file = (event.target as HTMLInputElement).files?.[0] ?? (event as CustomEvent<{ files?: File[] }>).detail?.files?.[0];
    if (!file) return;
    this.text = await file.text();
    this.handleCheck();
  }
  handleCheck() {
    this.done = '';
    const { config, error } = parseConnectorConfig(this.text);
    this.config = config;
    this.error = error ?? '';
    if (config) this.objectApiName = config.object;
  }

  async handleImport() {
    const config = this.config;
    const info = this.objectInfo;
    if (!config || !info) return;
    const rows = this.accepted;
    this.busy = true;
    this.error = '';
    try {
      let targetId = this.target?.Id as string | undefined;
      if (!targetId) {
        const upsert = config.upsertMode && !upsertRefusal(config, info);
        const created = await createRecord({
          apiName: 'Didomi_Sync_Target__c',
          fields: {
            Name: `${config.object} target`,
            Object__c: config.object,
            Active__c: true,
            Upsert_Mode__c: upsert,
            Match_Field__c: 'Email',
            Deletion_Behavior__c: 'Ignore',
          },
        });
        targetId = created.id;
      }
      const outcomes = await Promise.allSettled(
        rows.map((r) => createRecord({ apiName: 'Didomi_Field_Mapping__c', fields: mappingFields(targetId!, r.draft!) })),
      );
      const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      const imported = rows.length - failed.length;
      this.done = format(LABELS.Import_Done, imported, config.object);
      if (failed.length) this.error = reduceErrors(failed.map((f) => f.reason));
      this.dispatchEvent(new ShowToastEvent({ title: this.done, variant: failed.length ? 'warning' : 'success' }));
      this.dispatchEvent(new CustomEvent('imported', { detail: { targetId, object: config.object, imported } }));
      this.config = null;
    } catch (e) {
      this.error = reduceErrors(e);
    }
    this.busy = false;
    await this.result?.refresh?.();
  }
}
