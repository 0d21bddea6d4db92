// Didomi's catalogue as the admin tab uses it (mapping editor, connector import): names instead of ids. The middleware copies it
// from Didomi's API into Didomi_Catalogue_Entry__c (middleware/src/sync/catalogue-sync.ts) with the
// names in every language Didomi holds; the editor shows the admin's language, else English, else
// any. Without the Didomi API there is no catalogue and the editor keeps free-text ids.
import { gql } from 'lightning/graphql';
import { nodes } from 'c/didomiSyncRules';
// The Salesforce user's language, not the browser's: https://developer.salesforce.com/docs/platform/lwc/guide/create-i18n.html
import LANG from '@salesforce/i18n/lang';

export interface CatalogueItem {
  id: string;
  // eslint-disable-next-line no-restricted-globals -- a property, not window.name
  name: string;
  /** Not in Didomi's catalogue at the middleware's last refresh: deleted in Didomi's console. */
  removed?: boolean;
}
export interface CataloguePreference extends CatalogueItem {
  values: CatalogueItem[];
}
export interface Catalogue {
  purposes: CatalogueItem[];
  preferences: CataloguePreference[];
}

/**
 * The catalogue's rows, for the graphql wire (`@wire(graphql, { query: CATALOGUE_QUERY })`): one
 * query for every component, so Lightning Data Service answers them from one cache entry.
 */
export const CATALOGUE_QUERY = gql`
  query didomiCatalogue {
    uiapi {
      query {
        Didomi_Catalogue_Entry__c(first: 2000) {
          edges {
            node {
              Id
              Name {
                value
              }
              Kind__c {
                value
              }
              Didomi_Id__c {
                value
              }
              Preference_Id__c {
                value
              }
              Names__c {
                value
              }
              Last_Seen_At__c {
                value
              }
            }
          }
        }
      }
    }
  }
`;

/** The catalogue in a wire result of CATALOGUE_QUERY, names in the user's language; undefined until the rows have arrived. */
export function catalogueOf(result: GraphQLResult | undefined, lang: string = LANG || 'en'): Catalogue | undefined {
  const conn = result?.data?.uiapi?.query?.Didomi_Catalogue_Entry__c;
  return conn ? buildCatalogue(nodes(conn), lang) : undefined;
}

/** The name in `lang` ("fr-FR" tries fr-FR, then fr), else English, else the first, else the fallback. */
export function pickName(namesJson: unknown, lang: string, fallback: string): string {
  let names: Record<string, unknown> = {};
  try {
    names = typeof namesJson === 'string' ? JSON.parse(namesJson) : {};
  } catch {
    names = {};
  }
  const base = lang.split(/[-_]/)[0];
  for (const k of [lang, base, 'en']) if (typeof names?.[k] === 'string' && names[k]) return names[k] as string;
  const first = Object.values(names ?? {}).find((v) => typeof v === 'string' && v);
  return (first as string) ?? fallback;
}

/**
 * The middleware stamps every entry it copies with the same Last_Seen_At__c (catalogue-sync.ts) and
 * deletes nothing, so an entry stamped before the newest stamp was not in Didomi's last answer: it
 * was removed in Didomi. An entry without a stamp is not judged.
 */
function removedTest(rows: Record<string, any>[]): (r: Record<string, any>) => boolean {
  const stamp = (r: Record<string, any>) => (r.Last_Seen_At__c ? Date.parse(r.Last_Seen_At__c) : NaN);
  const latest = Math.max(...rows.map(stamp).filter((t) => !Number.isNaN(t)));
  return (r) => stamp(r) < latest;
}

/** Catalogue rows (Kind__c, Didomi_Id__c, Preference_Id__c, Names__c, Name, Last_Seen_At__c) into purposes and preferences with their values, sorted by name. */
export function buildCatalogue(rows: Record<string, any>[], lang: string): Catalogue {
  const removed = removedTest(rows);
  const item = (r: Record<string, any>): CatalogueItem => ({
    id: r.Didomi_Id__c,
    name: pickName(r.Names__c, lang, r.Name ?? r.Didomi_Id__c),
    ...(removed(r) ? { removed: true } : {}),
  });
  const byName = (a: CatalogueItem, b: CatalogueItem) => a.name.localeCompare(b.name);
  const valid = rows.filter((r) => r.Didomi_Id__c);
  const preferences = valid
    .filter((r) => r.Kind__c === 'Preference')
    .map((r) => ({
      ...item(r),
      values: valid
        .filter((v) => v.Kind__c === 'Preference Value' && v.Preference_Id__c === r.Didomi_Id__c)
        .map(item)
        .sort(byName),
    }))
    .sort(byName);
  return {
    purposes: valid
      .filter((r) => r.Kind__c === 'Purpose')
      .map(item)
      .sort(byName),
    preferences,
  };
}

export const isEmpty = (c: Catalogue) => c.purposes.length === 0 && c.preferences.length === 0;

/** The catalogue as pickers and the quick start offer it: what Didomi still has. */
export function current(c: Catalogue): Catalogue {
  return {
    purposes: c.purposes.filter((p) => !p.removed),
    preferences: c.preferences.filter((p) => !p.removed).map((p) => ({ ...p, values: p.values.filter((v) => !v.removed) })),
  };
}

const named = (i: CatalogueItem | undefined, id: string, removedText: string) => (i ? (i.removed ? `${i.name} (${removedText})` : i.name) : id);

/** "Marketing › Topics › Offers": names where the catalogue knows the id, the id where it does not; an entry removed in Didomi says so. */
export function sourceNames(c: Catalogue, purposeId: string, preferenceId: string, valueId: string, removedText = 'removed in Didomi'): string {
  const pref = c.preferences.find((p) => p.id === preferenceId);
  return [
    purposeId &&
      named(
        c.purposes.find((p) => p.id === purposeId),
        purposeId,
        removedText,
      ),
    preferenceId && named(pref, preferenceId, removedText),
    valueId &&
      named(
        pref?.values.find((v) => v.id === valueId),
        valueId,
        removedText,
      ),
  ]
    .filter(Boolean)
    .join(' › ');
}

/**
 * Options for a combobox: "Name (id)" of what Didomi still has; the current id stays offered even
 * when the catalogue lost it or Didomi removed it (then marked), so reopening a mapping changes nothing.
 */
export function options(items: CatalogueItem[], currentId: string, removedText = 'removed in Didomi'): { label: string; value: string }[] {
  const out = items.filter((i) => !i.removed).map((i) => ({ label: `${i.name} (${i.id})`, value: i.id }));
  const kept = items.find((i) => i.id === currentId);
  if (currentId && kept?.removed) out.unshift({ label: `${kept.name} (${kept.id}, ${removedText})`, value: currentId });
  else if (currentId && !kept) out.unshift({ label: currentId, value: currentId });
  return out;
}

/** A preference's value labels, as the mapping's Value_Labels__c JSON: value id -> name. */
export function valueLabels(pref: CataloguePreference | undefined): string {
  if (!pref?.values.length) return '';
  return JSON.stringify(Object.fromEntries(pref.values.map((v) => [v.id, v.name])));
}

const squash = (s: string) =>
  s
    .toLowerCase()
    .replace(/__c$/, '')
    .replace(/[^a-z0-9]/g, '');

/**
 * "Map every purpose to a checkbox field": each purpose no mapping reads yet, with the unused
 * updateable checkbox whose label or API name contains the purpose's name (or '' to choose).
 */
export function purposeSuggestions(c: Catalogue, objectInfo: UiObjectInfo | undefined, mapped: { kind: string; purposeId: string; field: string }[]) {
  const taken = new Set(mapped.map((m) => m.field.toLowerCase()));
  const readPurposes = new Set(mapped.filter((m) => m.kind === 'Purpose').map((m) => m.purposeId));
  const checkboxes = Object.values(objectInfo?.fields ?? {}).filter((f) => f.updateable && f.dataType === 'Boolean' && !taken.has(f.apiName.toLowerCase()));
  const used = new Set<string>();
  return c.purposes
    .filter((p) => !readPurposes.has(p.id))
    .map((p) => {
      const key = squash(p.name);
      const match = key ? checkboxes.find((f) => !used.has(f.apiName) && (squash(f.label).includes(key) || squash(f.apiName).includes(key))) : undefined;
      if (match) used.add(match.apiName);
      return { purposeId: p.id, name: p.name, field: match?.apiName ?? '' };
    });
}
