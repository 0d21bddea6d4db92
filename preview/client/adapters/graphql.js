// lightning/graphql for the preview: POST /graphql with the query and variables; the wire value is
// { data, errors, refresh } as on the platform.
import { call, FetchAdapter } from './api.js';

export function gql(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? values[i] : ''), '');
}

export class graphql extends FetchAdapter {
  constructor(dataCallback) {
    super(dataCallback);
    this.refreshOnWrite = true;
  }
  async load() {
    const { query, variables } = this.config ?? {};
    if (!query) return;
    const refresh = () => this.load();
    try {
      const body = await call('POST', '/graphql', { query, variables: variables ?? {} });
      this.dataCallback({ data: body.errors?.length ? undefined : body.data, errors: body.errors?.length ? body.errors : undefined, refresh });
    } catch (error) {
      this.dataCallback({ data: undefined, errors: [{ message: error?.body?.[0]?.message ?? error?.statusText ?? String(error) }], refresh });
    }
  }
}

export async function refreshGraphQL(result) {
  await result?.refresh?.();
}
