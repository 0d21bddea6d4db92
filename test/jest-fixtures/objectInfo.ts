// A trimmed UI API ObjectInfo for Lead (GET /ui-api/object-info/Lead), with two customer fields.
const field = (apiName: string, label: string, dataType: string, extra: Partial<UiFieldInfo> = {}): UiFieldInfo => ({
  apiName,
  label,
  dataType,
  createable: true,
  updateable: true,
  required: false,
  nillable: true,
  ...extra,
});

export const LEAD_INFO: UiObjectInfo = {
  apiName: 'Lead',
  label: 'Lead',
  labelPlural: 'Leads',
  fields: {
    Id: field('Id', 'Lead ID', 'String', { createable: false, updateable: false, nillable: false }),
    LastName: field('LastName', 'Last Name', 'String', { nillable: false, required: true }),
    Company: field('Company', 'Company', 'String', { nillable: false, required: true }),
    Email: field('Email', 'Email', 'Email'),
    City: field('City', 'City', 'String'),
    HasOptedOutOfEmail: field('HasOptedOutOfEmail', 'Email Opt Out', 'Boolean', { nillable: false }),
    IsConverted: field('IsConverted', 'Converted', 'Boolean', { updateable: false, createable: false, nillable: false }),
    Marketing_Consent__c: field('Marketing_Consent__c', 'Marketing Consent', 'Boolean', { nillable: false }),
    Newsletter_Topics__c: field('Newsletter_Topics__c', 'Newsletter Topics', 'String'),
    Status: field('Status', 'Lead Status', 'Picklist', { nillable: false, defaultedOnCreate: true }),
    CreatedDate: field('CreatedDate', 'Created Date', 'DateTime', { createable: false, updateable: false, nillable: false }),
  },
};
