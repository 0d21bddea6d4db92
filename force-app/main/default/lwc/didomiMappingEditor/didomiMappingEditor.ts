// Field mappings of one target: what Didomi purpose, preference, preference value or user attribute
// goes into which field. The field list comes from getObjectInfo, filtered to the types Didomi's
// rules allow for the chosen kind; invalid combinations and duplicates are refused before saving.
import { LightningElement, api, wire } from 'lwc';
import { gql, graphql } from 'lightning/graphql';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import { createRecord, deleteRecord, updateRecord } from 'lightning/uiRecordApi';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import { LABELS, format } from 'c/didomiSyncLabels';
import {
  CONSENT_MODEL_FIELD,
  CONTACT_POINT_TYPES,
  MAPPING_KINDS,
  OPT_OUT_FIELDS,
  changedValue,
  emptyMapping,
  fieldOptions,
  listResult,
  nodes,
  reduceErrors,
  typeWord,
  validateMapping,
  type MappingDraft,
  type MappingKind,
} from 'c/didomiSyncRules';
import {
  CATALOGUE_QUERY,
  catalogueOf,
  current as currentCatalogue,
  isEmpty,
  options as catalogueOptions,
  purposeSuggestions,
  sourceNames,
  valueLabels,
} from 'c/didomiCatalogue';
// eslint-disable-next-line no-unused-vars -- used in type annotations only, which the LWC lint parser does not count
import type { Catalogue, CatalogueItem } from 'c/didomiCatalogue';

interface MappingRow extends MappingDraft {
  id: string;
}

/** One Didomi id input of the form: a catalogue picker (options) or, without a catalogue, free text (example, help). */
interface SourcePicker {
  field: 'purposeId' | 'preferenceId' | 'valueId';
  label: string;
  help: string;
  example: string;
  items: CatalogueItem[];
  value: string;
  options: { label: string; value: string }[];
}

function toDraft(row: Record<string, any>): MappingRow {
  return {
    id: row.Id,
    kind: row.Kind__c ?? '',
    purposeId: row.Purpose_Id__c ?? '',
    preferenceId: row.Preference_Id__c ?? '',
    valueId: row.Value_Id__c ?? '',
    attributePath: row.Attribute_Path__c ?? '',
    dataUsePurpose: row.Data_Use_Purpose__c ?? '',
    contactPointType: row.Contact_Point_Type__c ?? '',
    field: row.Field_Api_Name__c ?? '',
    invert: !!row.Invert__c,
    valueLabels: row.Value_Labels__c ?? '',
    regulation: row.Regulation__c ?? '',
    active: row.Active__c !== false,
  };
}

/** Only the inputs that mean something for the kind are saved (a purpose has no preference id). */
function toFields(d: MappingDraft): Record<string, unknown> {
  const kind = d.kind as MappingKind;
  const didomi = kind !== 'User Attribute';
  const boolean = kind === 'Purpose' || kind === 'Preference Value';
  return {
    Kind__c: kind,
    Active__c: d.active,
    Purpose_Id__c: didomi ? d.purposeId.trim() : null,
    Preference_Id__c: kind === 'Preference' || kind === 'Preference Value' ? d.preferenceId.trim() : null,
    Value_Id__c: kind === 'Preference Value' ? d.valueId.trim() : null,
    Attribute_Path__c: didomi ? null : d.attributePath.trim(),
    Field_Api_Name__c: d.field,
    Invert__c: boolean ? d.invert : false,
    Value_Labels__c: kind === 'Preference' && d.valueLabels.trim() ? d.valueLabels.trim() : null,
    Regulation__c: d.regulation.trim() || null,
    // The consent model: a DataUsePurpose name and channel; the field is the record's link to its Individual.
    ...(kind === 'Consent Model'
      ? { Field_Api_Name__c: CONSENT_MODEL_FIELD, Data_Use_Purpose__c: d.dataUsePurpose.trim(), Contact_Point_Type__c: d.contactPointType }
      : {}),
  };
}

export default class DidomiMappingEditor extends LightningElement {
  @api targetId?: string;
  @api objectApiName?: string;

  labels = LABELS;
  result?: GraphQLResult;
  mappings: MappingRow[] = [];
  loaded = false;
  loadError = '';
  objectInfo?: UiObjectInfo;
  draft: MappingDraft = emptyMapping();
  search = '';
  formError = '';
  saving = false;

  catalogue: Catalogue = { purposes: [], preferences: [] };
  /** "Map every purpose to a checkbox field": one row per unmapped purpose, with the field to write. */
  quickStart: { purposeId: string; name: string; field: string }[] | null = null;
  quickStartErrors: string[] = [];
  confirmingDelete: string | null = null;

  // Didomi's catalogue, copied into the org by the middleware when the Didomi API is configured.
  @wire(graphql, { query: CATALOGUE_QUERY })
  wiredCatalogue(result: GraphQLResult) {
    this.catalogue = catalogueOf(result) ?? this.catalogue;
  }

  @wire(getObjectInfo, { objectApiName: '$objectApiName' })
  wiredObjectInfo({ data, error }: { data?: UiObjectInfo; error?: LdsError }) {
    if (data) this.objectInfo = data;
    else if (error) this.loadError = reduceErrors(error);
  }

  @wire(graphql, {
    query: gql`
      query didomiFieldMappings($targetId: ID) {
        uiapi {
          query {
            Didomi_Field_Mapping__c(where: { Target__c: { eq: $targetId } }, first: 200, orderBy: { CreatedDate: { order: ASC } }) {
              edges {
                node {
                  Id
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
                  Invert__c {
                    value
                  }
                  Value_Labels__c {
                    value
                  }
                  Regulation__c {
                    value
                  }
                  Data_Use_Purpose__c {
                    value
                  }
                  Contact_Point_Type__c {
                    value
                  }
                  Active__c {
                    value
                  }
                }
              }
            }
          }
        }
      }
    `,
    variables: '$variables',
  })
  wiredMappings(result: GraphQLResult) {
    this.result = result;
    const list = listResult(result, 'Didomi_Field_Mapping__c');
    if (!list) return;
    if (list.connection) this.mappings = nodes(list.connection).map(toDraft);
    this.loadError = list.error;
    this.loaded = true;
  }

  get variables() {
    return { targetId: this.targetId };
  }
  get title() {
    return format(LABELS.Mappings_Title, this.objectInfo?.label ?? this.objectApiName ?? '');
  }
  get loading() {
    return !this.loaded;
  }
  get empty() {
    return this.loaded && !this.loadError && this.mappings.length === 0;
  }
  get rows() {
    return this.mappings.map((m) => {
      const f = this.objectInfo?.fields[m.field];
      const source =
        m.kind === 'User Attribute'
          ? m.attributePath
          : sourceNames(this.catalogue, m.purposeId, m.preferenceId, m.valueId, this.labels.Catalogue_Removed) +
            (m.kind === 'Consent Model' ? ` → ${m.dataUsePurpose} / ${m.contactPointType}` : '');
      return {
        ...m,
        key: m.id,
        source,
        fieldText: f ? `${f.label} (${m.field})` : m.field,
        // The middleware reads a blank regulation as GDPR (its default), so the table says so.
        regulationText: m.regulation || 'gdpr',
        options: [m.active ? '' : LABELS.Mapping_Inactive, m.invert ? LABELS.Mapping_Invert : ''].filter(Boolean).join(' · '),
        rowClass: m.id === this.draft.id ? 'slds-is-selected' : m.active ? '' : 'slds-text-color_weak',
        deleteLabel: `${LABELS.Delete}: ${m.field}`,
        editLabel: `${LABELS.Mapping_Edit}: ${m.field}`,
      };
    });
  }
  get editing() {
    return !!this.draft.id;
  }
  get formTitle() {
    return this.draft.id ? LABELS.Mapping_Edit : LABELS.Mapping_New;
  }
  get kindOptions() {
    return MAPPING_KINDS.map((k) => ({ label: k, value: k }));
  }
  get isAttribute() {
    return this.draft.kind === 'User Attribute';
  }
  get isConsentModel() {
    return this.draft.kind === 'Consent Model';
  }
  get writesField() {
    return this.draft.kind !== 'Consent Model';
  }
  get contactPointTypeOptions() {
    return CONTACT_POINT_TYPES.map((v) => ({ label: v, value: v }));
  }
  get isBoolean() {
    return this.draft.kind === 'Purpose' || this.draft.kind === 'Preference Value';
  }
  get hasValueLabels() {
    return this.draft.kind === 'Preference';
  }
  /** With Didomi's catalogue: pickers by name; without: free-text ids with an example. */
  get hasCatalogue() {
    return !isEmpty(this.catalogue);
  }
  /** The Didomi ids the kind reads, in order: every kind but User Attribute a purpose, preferences a preference, values a value. */
  get sourcePickers(): SourcePicker[] {
    const kind = this.draft.kind;
    const { purposes, preferences } = this.catalogue;
    const pickers: Omit<SourcePicker, 'value' | 'options'>[] = [];
    if (kind && kind !== 'User Attribute')
      pickers.push({ field: 'purposeId', label: LABELS.Mapping_Purpose_Id, help: LABELS.Mapping_Purpose_Help, example: 'marketing-9HmMn6Vt', items: purposes });
    if (kind === 'Preference' || kind === 'Preference Value')
      pickers.push({
        field: 'preferenceId',
        label: LABELS.Mapping_Preference_Id,
        help: LABELS.Mapping_Preference_Help,
        example: 'CFWKNVJV',
        items: preferences,
      });
    if (kind === 'Preference Value')
      pickers.push({
        ...{ field: 'valueId', label: LABELS.Mapping_Value_Id, help: LABELS.Mapping_Value_Help, example: 'dK7rBBXk' },
        items: preferences.find((p) => p.id === this.draft.preferenceId)?.values ?? [],
      });
    return pickers.map((p) => ({ ...p, value: this.draft[p.field], options: catalogueOptions(p.items, this.draft[p.field], LABELS.Catalogue_Removed) }));
  }
  get labelsPlaceholder() {
    return '{"dK7rBBXk": "Weekly"}';
  }
  get fieldChoices() {
    const options = fieldOptions(this.objectInfo, this.draft.kind, this.search);
    // A field picked under another kind stays visible (marked) so the refusal can explain itself.
    const current = this.draft.field && this.objectInfo?.fields[this.draft.field];
    if (current && !options.some((o) => o.value === this.draft.field))
      options.unshift({ label: `${current.label} (${current.apiName}) · ${typeWord(current.dataType)} ⚠`, value: current.apiName, dataType: current.dataType });
    return options;
  }
  get noFieldChoices() {
    return !!this.draft.kind && !!this.objectInfo && this.fieldChoices.length === 0;
  }

  handleChange(event: Event) {
    const name = (event.target as HTMLElement).dataset.field as keyof MappingDraft;
    this.draft = { ...this.draft, [name]: changedValue(event) } as MappingDraft;
    // A preference's value labels come from the catalogue unless the admin wrote their own.
    if (this.draft.kind === 'Preference' && !this.draft.valueLabels.trim()) {
      const filled = valueLabels(this.catalogue.preferences.find((p) => p.id === this.draft.preferenceId));
      if (filled) this.draft = { ...this.draft, valueLabels: filled };
    }
    this.formError = '';
  }

  handleEdit(event: Event) {
    const id = (event.currentTarget as HTMLElement).dataset.id;
    const m = this.mappings.find((x) => x.id === id);
    if (m) {
      this.draft = { ...m };
      this.search = '';
      this.formError = '';
    }
  }

  handleCancel() {
    this.draft = emptyMapping();
    this.search = '';
    this.formError = '';
  }

  handleSearch(event: Event) {
    this.search = String((event.target as HTMLInputElement).value ?? '');
  }

  async handleSave() {
    const problem = validateMapping(this.draft, this.objectInfo, this.mappings);
    if (problem) {
      this.formError = problem;
      return;
    }
    this.saving = true;
    try {
      // Target__c is the master-detail parent: set on create, never re-parented.
      if (this.draft.id) await updateRecord({ fields: { Id: this.draft.id, ...toFields(this.draft) } });
      else await createRecord({ apiName: 'Didomi_Field_Mapping__c', fields: { Target__c: this.targetId, ...toFields(this.draft) } });
      this.dispatchEvent(new ShowToastEvent({ title: LABELS.Mapping_Saved, message: this.draft.field || this.draft.dataUsePurpose, variant: 'success' }));
      this.draft = emptyMapping();
      this.search = '';
      await this.result?.refresh?.();
    } catch (e) {
      this.formError = reduceErrors(e);
    } finally {
      this.saving = false;
    }
  }

  // ---------- quick start: every purpose to a checkbox ----------

  get canQuickStart() {
    return this.hasCatalogue && !!this.objectInfo && purposeSuggestions(currentCatalogue(this.catalogue), this.objectInfo, this.mappings).length > 0;
  }
  get checkboxOptions() {
    return [{ label: LABELS.Quick_Start_None, value: '' }, ...fieldOptions(this.objectInfo, 'Purpose').map((o) => ({ label: o.label, value: o.value }))];
  }
  get quickStartCount() {
    return format(LABELS.Quick_Start_Create, (this.quickStart ?? []).filter((r) => r.field).length);
  }
  handleQuickStart() {
    this.quickStart = purposeSuggestions(currentCatalogue(this.catalogue), this.objectInfo, this.mappings);
    this.quickStartErrors = [];
  }
  handleQuickStartField(event: Event) {
    const id = (event.target as HTMLElement).dataset.purpose;
    this.quickStart = (this.quickStart ?? []).map((r) => (r.purposeId === id ? { ...r, field: String(changedValue(event) ?? '') } : r));
  }
  handleQuickStartCancel() {
    this.quickStart = null;
    this.quickStartErrors = [];
  }
  /** Each chosen row becomes a purpose mapping, checked like a hand-made one; a refused row is listed and the others are saved. */
  async handleQuickStartCreate() {
    const accepted: MappingDraft[] = [];
    const errors: string[] = [];
    for (const r of (this.quickStart ?? []).filter((x) => x.field)) {
      // A consent written into an opt-out checkbox is inverted, so a refusal never reads as "may contact".
      const draft: MappingDraft = { ...emptyMapping(), kind: 'Purpose', purposeId: r.purposeId, field: r.field, invert: OPT_OUT_FIELDS.includes(r.field) };
      const why = validateMapping(draft, this.objectInfo, [...this.mappings, ...accepted]);
      if (why) errors.push(`${r.name}: ${why}`);
      else accepted.push(draft);
    }
    this.saving = true;
    const outcomes = await Promise.allSettled(
      accepted.map((d) => createRecord({ apiName: 'Didomi_Field_Mapping__c', fields: { Target__c: this.targetId, ...toFields(d) } })),
    );
    outcomes.forEach((o, i) => {
      if (o.status === 'rejected') errors.push(`${accepted[i].field}: ${reduceErrors(o.reason)}`);
    });
    this.saving = false;
    this.quickStartErrors = errors;
    if (!errors.length) this.quickStart = null;
    const done = outcomes.filter((o) => o.status === 'fulfilled').length;
    if (done) this.dispatchEvent(new ShowToastEvent({ title: format(LABELS.Quick_Start_Done, done), variant: 'success' }));
    await this.result?.refresh?.();
  }

  /** Delete asks first: a mapping removed by a stray click stops a consent reaching its field. */
  handleDelete(event: Event) {
    this.confirmingDelete = (event.currentTarget as HTMLElement).dataset.id ?? null;
  }
  handleCancelDelete() {
    this.confirmingDelete = null;
  }
  get confirmDeleteText() {
    const m = this.mappings.find((x) => x.id === this.confirmingDelete);
    return m ? format(LABELS.Mapping_Confirm_Delete, m.field) : '';
  }

  async handleConfirmDelete() {
    const id = this.confirmingDelete!;
    this.confirmingDelete = null;
    try {
      await deleteRecord(id);
      this.dispatchEvent(new ShowToastEvent({ title: LABELS.Mapping_Deleted, variant: 'success' }));
      await this.result?.refresh?.();
    } catch (e) {
      this.loadError = reduceErrors(e);
    }
  }
}
