// Fetch helper for the preview's data modules: the preview server proxies /services/data to the
// org emulator with the signed-in session, as the Lightning Experience host does for LDS.
export const API = '/services/data/v66.0';

export async function call(method, path, body) {
  const res = await fetch(API + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  // LDS rejects with { status, statusText, body }, the body being the UI API error as sent.
  if (!res.ok) throw { status: res.status, statusText: res.statusText, body: json };
  return json;
}

/** Minimal wire adapter base: (re)fetches whenever the reactive config changes. */
export class FetchAdapter {
  constructor(dataCallback) {
    this.dataCallback = dataCallback;
    this.config = undefined;
    this.connected = false;
    FetchAdapter.live.add(this);
  }
  connect() {
    this.connected = true;
    if (this.config) this.load();
  }
  disconnect() {
    this.connected = false;
    FetchAdapter.live.delete(this);
  }
  update(config) {
    this.config = config;
    if (this.connected) this.load();
  }
  async load() {
    // Subclasses emit what they fetched.
  }
}
FetchAdapter.live = new Set();

/** What LDS does after a write: cached data about that object is refreshed. */
export function notifyChange() {
  for (const a of FetchAdapter.live) if (a.connected && a.config && a.refreshOnWrite) a.load();
}
