// lightning/uiRecordApi for the preview: the record writes the admin tab makes, over the UI API.
import { call, FetchAdapter, notifyChange } from './api.js';

export async function createRecord(recordInput) {
  const rec = await call('POST', '/ui-api/records', recordInput);
  notifyChange();
  return rec;
}

export async function updateRecord(recordInput) {
  const { Id, ...fields } = recordInput.fields;
  const rec = await call('PATCH', `/ui-api/records/${encodeURIComponent(Id)}`, { fields });
  notifyChange();
  return rec;
}

export async function deleteRecord(recordId) {
  await call('DELETE', `/ui-api/records/${encodeURIComponent(recordId)}`);
  notifyChange();
}

export class getRecord extends FetchAdapter {
  async load() {
    const { recordId, fields = [], optionalFields = [] } = this.config ?? {};
    if (!recordId) return;
    const qs = new URLSearchParams();
    if (fields.length) qs.set('fields', fields.join(','));
    if (optionalFields.length) qs.set('optionalFields', optionalFields.join(','));
    try {
      this.dataCallback({ data: await call('GET', `/ui-api/records/${encodeURIComponent(recordId)}?${qs}`), error: undefined });
    } catch (error) {
      this.dataCallback({ data: undefined, error });
    }
  }
}

export function getFieldValue(record, field) {
  const name = typeof field === 'string' ? field.split('.').pop() : field.fieldApiName;
  return record?.fields?.[name]?.value;
}
