// Didomi's catalogue: the organisation's purposes and its preferences library (each preference with
// its values), with their names in every language Didomi holds, so the admin tab can show
// "Marketing › Newsletter › Offers" instead of ids.
//   GET /metadata/purposes?organization_id=   purposes; the name is `description` (a string, or
//     { en, fr, ... } with translations) (Didomi developer docs, "Data Manager > Purposes")
//   GET /preferences?organization_id=          { total, limit, skip, data: [{ id, name: { en, ... },
//     values: [{ id, name: { en, ... } }] }] } (Didomi developer docs, "Preferences Library")
// Responses are validated: an entry without an id is skipped, a missing name falls back to the id.
import { z } from 'zod';
import type { DidomiApi } from './api-client.ts';

export type CatalogueKind = 'Purpose' | 'Preference' | 'Preference Value';

export interface CatalogueEntry {
  kind: CatalogueKind;
  id: string;
  /** For a preference value: its preference. */
  preferenceId: string | null;
  /** Language code -> name. */
  names: Record<string, string>;
}

const translated = z.union([z.string(), z.record(z.string(), z.unknown())]).nullish();
const purposeSchema = z.object({ id: z.string().min(1), description: translated, name: translated });
const preferenceSchema = z.object({
  id: z.string().min(1),
  name: translated,
  values: z.array(z.object({ id: z.string().min(1), name: translated }).loose()).nullish(),
});

/** { en: "x", fr: "y" } or "x" as a language -> name map; non-string names dropped. */
export function namesOf(v: unknown, fallback: string): Record<string, string> {
  if (typeof v === 'string' && v.trim()) return { en: v.trim() };
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [lang, name] of Object.entries(v)) if (typeof name === 'string' && name.trim()) out[lang] = name.trim();
  return Object.keys(out).length ? out : { en: fallback };
}

export function entryKey(e: Pick<CatalogueEntry, 'kind' | 'id' | 'preferenceId'>): string {
  return `${e.kind}|${e.preferenceId ?? ''}|${e.id}`;
}

export async function fetchCatalogue(api: DidomiApi): Promise<{ entries: CatalogueEntry[]; skipped: number }> {
  const [purposes, preferences] = await Promise.all([api.getAll('/metadata/purposes'), api.getAll('/preferences')]);
  const entries: CatalogueEntry[] = [];
  let skipped = 0;
  for (const raw of purposes) {
    const p = purposeSchema.safeParse(raw);
    if (!p.success) skipped++;
    else entries.push({ kind: 'Purpose', id: p.data.id, preferenceId: null, names: namesOf(p.data.description ?? p.data.name, p.data.id) });
  }
  for (const raw of preferences) {
    const p = preferenceSchema.safeParse(raw);
    if (!p.success) {
      skipped++;
      continue;
    }
    entries.push({ kind: 'Preference', id: p.data.id, preferenceId: null, names: namesOf(p.data.name, p.data.id) });
    for (const v of p.data.values ?? []) entries.push({ kind: 'Preference Value', id: v.id, preferenceId: p.data.id, names: namesOf(v.name, v.id) });
  }
  return { entries, skipped };
}
