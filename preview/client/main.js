// The admin tab outside Salesforce: the same compiled components, rendered with synthetic shadow so
// the global SLDS stylesheet reaches them (see shared/reference/lwc-local-preview.md).
import '@lwc/synthetic-shadow';
import { createElement } from 'lwc';
import DidomiSyncAdmin from 'c/didomiSyncAdmin';
import { call } from './adapters/api.js';

const app = createElement('c-didomi-sync-admin', { is: DidomiSyncAdmin });
document.querySelector('#app').appendChild(app);

// Toasts, as Lightning Experience would show them.
const toasts = document.querySelector('#toasts');
document.addEventListener('lightning__showtoast', (e) => {
  const { title, message, variant = 'info' } = e.detail ?? {};
  const div = document.createElement('div');
  div.className = `slds-notify slds-notify_toast slds-theme_${variant}`;
  div.setAttribute('role', 'status');
  div.dataset.toast = variant;
  div.textContent = message ? `${title}: ${message}` : title;
  toasts.appendChild(div);
  setTimeout(() => div.remove(), 4000);
});

// A record page: the record as the UI API returns it.
const record = document.querySelector('#record');
async function route() {
  const m = /^#record\/(\w+)$/.exec(window.location.hash);
  record.hidden = !m;
  if (m) record.querySelector('pre').textContent = JSON.stringify(await call('GET', `/ui-api/records/${m[1]}`).catch((e) => e), null, 2);
}
window.addEventListener('hashchange', route);
route();
document.querySelector('#app').dataset.ready = 'true';
