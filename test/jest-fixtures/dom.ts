// Small helpers for the admin tab's Jest tests.
import { createElement } from 'lwc';

const mounted: HTMLElement[] = [];

export function mount<T extends HTMLElement = HTMLElement>(tag: string, ctor: any, props: Record<string, unknown> = {}): T {
  const el = createElement(tag, { is: ctor }) as unknown as T;
  Object.assign(el, props);
  document.body.appendChild(el);
  mounted.push(el);
  return el;
}

export function unmountAll() {
  while (mounted.length) mounted.pop()!.remove();
}

/** Lets LWC re-render and pending promises settle. */
export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

export const $ = (root: Element, selector: string) => root.shadowRoot!.querySelector(selector) as any;
export const $$ = (root: Element, selector: string) => [...root.shadowRoot!.querySelectorAll(selector)] as any[];

/** Fires the change event a lightning-combobox / lightning-input / lightning-textarea fires. */
export function change(el: any, value: unknown) {
  if (typeof value === 'boolean') el.checked = value;
  else el.value = value;
  el.dispatchEvent(new CustomEvent('change', { detail: typeof value === 'boolean' ? { checked: value } : { value } }));
}

/** A UI API GraphQL connection (edges[].node with {value} fields) from plain rows. */
export function connection(rows: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return {
    edges: rows.map((r) => ({
      node: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'Id' ? v : { value: v, displayValue: null }])),
    })),
    ...extra,
  };
}

export const gqlData = (object: string, conn: unknown) => ({ uiapi: { query: { [object]: conn } } });
