// Types for the platform modules the admin tab imports that @salesforce/lightning-types does not
// describe (yet): the Lightning Data Service adapters, toasts, navigation and custom labels.
// Shapes follow the UI API reference (Record, ObjectInfo) and lightning/graphql's wire result.
declare global {
  interface UiField {
    value: unknown;
    displayValue?: string | null;
  }
  interface UiRecord {
    apiName: string;
    id: string;
    fields: Record<string, UiField>;
  }
  interface UiFieldInfo {
    apiName: string;
    label: string;
    dataType: string;
    createable: boolean;
    updateable: boolean;
    required: boolean;
    nillable: boolean;
    defaultedOnCreate?: boolean;
    externalId?: boolean;
    unique?: boolean;
    length?: number;
  }
  interface UiObjectInfo {
    apiName: string;
    label: string;
    labelPlural: string;
    fields: Record<string, UiFieldInfo>;
  }
  interface LdsError {
    body?: unknown;
    status?: number;
    statusText?: string;
    message?: string;
  }
  interface GraphQLResult<T = any> {
    data?: T;
    errors?: { message: string }[];
    refresh?: () => Promise<void>;
  }
}

export {};
