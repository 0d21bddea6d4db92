// Salesforce error shapes (reference/salesforce.md): top-level REST errors are an array of
// {message, errorCode[, fields]}; per-record results use {statusCode, message, fields}.
export class ApiError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly fields?: string[];
  constructor(status: number, errorCode: string, message: string, fields?: string[]) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
    this.fields = fields;
  }
  body() {
    return [{ message: this.message, errorCode: this.errorCode, ...(this.fields ? { fields: this.fields } : {}) }];
  }
}

/** A per-record failure, reported in collection results with `statusCode`. */
export class RecordError extends Error {
  readonly statusCode: string;
  readonly fields: string[];
  constructor(statusCode: string, message: string, fields: string[] = []) {
    super(message);
    this.statusCode = statusCode;
    this.fields = fields;
  }
  entry() {
    return { statusCode: this.statusCode, message: this.message, fields: this.fields };
  }
}
