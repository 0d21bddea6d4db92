// lightning/uiObjectInfoApi for the preview: getObjectInfo from GET /ui-api/object-info/{apiName}.
import { call, FetchAdapter } from './api.js';

const cache = new Map();

export class getObjectInfo extends FetchAdapter {
  async load() {
    const name = this.config?.objectApiName;
    if (!name) return;
    try {
      if (!cache.has(name)) cache.set(name, call('GET', `/ui-api/object-info/${encodeURIComponent(name)}`));
      this.dataCallback({ data: await cache.get(name), error: undefined });
    } catch (error) {
      cache.delete(name);
      this.dataCallback({ data: undefined, error });
    }
  }
}
