// Didomi's catalogue as the mapping editor uses it: names instead of ids. The middleware copies it
// from Didomi's API into Didomi_Catalogue_Entry__c (middleware/src/sync/catalogue-sync.ts) with the
// names in every language Didomi holds; the editor shows the admin's language, else English, else
// any. Without the Didomi API there is no catalogue and the editor keeps free-text ids.

export interface CatalogueItem {
  id: string;
  // eslint-disable-next-line no-restricted-globals -- a property, not window.name
  name: string;
}
export interface CataloguePreference extends CatalogueItem {
  values: CatalogueItem[];
}
export interface Catalogue {
  purposes: CatalogueItem[];
  preferences: CataloguePreference[];
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

/** Catalogue rows (Kind__c, Didomi_Id__c, Preference_Id__c, Names__c, Name) into purposes and preferences with their values, sorted by name. */
export function buildCatalogue(rows: Record<string, any>[], lang: string): Catalogue {
  const item = (r: Record<string, any>): CatalogueItem => ({ id: r.Didomi_Id__c, name: pickName(r.Names__c, lang, r.Name ?? r.Didomi_Id__c) });
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

/** "Marketing › Topics › Offers": names where the catalogue knows the id, the id where it does not. */
export function sourceNames(c: Catalogue, purposeId: string, preferenceId: string, valueId: string): string {
  const pref = c.preferences.find((p) => p.id === preferenceId);
  return [
    purposeId && (c.purposes.find((p) => p.id === purposeId)?.name ?? purposeId),
    preferenceId && (pref?.name ?? preferenceId),
    valueId && (pref?.values.find((v) => v.id === valueId)?.name ?? valueId),
  ]
    .filter(Boolean)
    .join(' › ');
}

/** Options for a combobox: "Name (id)"; the current id stays offered even when the catalogue lost it. */
export function options(items: CatalogueItem[], current: string): { label: string; value: string }[] {
  const out = items.map((i) => ({ label: `${i.name} (${i.id})`, value: i.id }));
  if (current && !items.some((i) => i.id === current)) out.unshift({ label: current, value: current });
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
