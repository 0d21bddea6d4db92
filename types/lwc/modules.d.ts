// Ambient declarations of the platform modules the admin tab imports (see globals.d.ts for the shapes).
/// <reference types="@salesforce/lightning-types" />

declare module 'lightning/uiRecordApi' {
  export const getRecord: any;
  export function createRecord(input: { apiName: string; fields: Record<string, unknown> }): Promise<UiRecord>;
  export function updateRecord(input: { fields: Record<string, unknown> & { Id: string } }): Promise<UiRecord>;
  export function deleteRecord(recordId: string): Promise<void>;
  export function getFieldValue(record: UiRecord, field: string): unknown;
}
declare module 'lightning/uiObjectInfoApi' {
  export const getObjectInfo: any;
}
declare module 'lightning/graphql' {
  export const graphql: any;
  export function gql(strings: TemplateStringsArray, ...values: unknown[]): unknown;
  export function refreshGraphQL(result: unknown): Promise<void>;
}
declare module 'lightning/platformShowToastEvent' {
  export class ShowToastEvent extends CustomEvent<unknown> {
    constructor(init: { title: string; message?: string; variant?: 'info' | 'success' | 'warning' | 'error'; mode?: string });
  }
}
declare module 'lightning/navigation' {
  type Constructor<T = object> = new (...args: any[]) => T;
  export const NavigationMixin: (<T extends Constructor>(base: T) => T) & { readonly Navigate: unique symbol; readonly GenerateUrl: unique symbol };
}
declare module '@salesforce/label/c.*' {
  const label: string;
  export default label;
}
declare module '@salesforce/i18n/lang' {
  const lang: string;
  export default lang;
}
declare module '@salesforce/i18n/locale' {
  const locale: string;
  export default locale;
}
