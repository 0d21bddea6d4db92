// Packs records into sObject Collections that Salesforce accepts: at most 200 records, and one
// sObject type each. Salesforce processes a mixed collection in chunks (a new chunk at each change
// of type) and refuses more than 10 (REST API Developer Guide, "Update Records Using sObject
// Collections"), so people who each have a Lead and a Contact must not alternate types.
export const MAX_COLLECTION = 200;

/** Items grouped by type (first-seen order, stable within a type), cut into collections of at most `size`. */
export function collectionsByType<T>(items: T[], typeOf: (item: T) => string, size = MAX_COLLECTION): T[][] {
  const byType = new Map<string, T[]>();
  for (const item of items) {
    const t = typeOf(item);
    const list = byType.get(t);
    if (list) list.push(item);
    else byType.set(t, [item]);
  }
  const out: T[][] = [];
  for (const list of byType.values()) for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
