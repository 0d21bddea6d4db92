// Which matched records a person's consent is written to, and when upsert mode may create one.
import { hasOrganizationUserId } from '../didomi/user-key.ts';
import type { Target } from './config-types.ts';

/**
 * A converted Lead is a match, never written: the person lives on as its Contact (DESIGN.md "Match"),
 * and Salesforce refuses edits to converted Leads without a special permission.
 */
export function writableRecords<R extends Record<string, unknown>>(t: Target, matched: R[]): R[] {
  return t.object === 'Lead' ? matched.filter((r) => r.IsConverted !== true) : matched;
}

/**
 * Why upsert mode must not create a record for this person, or null when it may. Any match (a
 * converted Lead included) means the person is known; a Didomi user with no organization_user_id is
 * someone Salesforce cannot know (no e-mail, no CRM id), so a record for them would be an orphan.
 */
export function creationSkipReason(userKey: string, matched: unknown[]): 'matched' | 'no_organization_user_id' | null {
  if (matched.length) return 'matched';
  if (!hasOrganizationUserId(userKey)) return 'no_organization_user_id';
  return null;
}
