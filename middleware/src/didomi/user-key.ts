// Which person a webhook is about. The key is the customer's own organization_user_id (what CRM
// integrations match on, reference/didomi.md), else Didomi's user id under a "didomi:" prefix.
// One person, two spellings: an e-mail-shaped id is compared case-insensitively (its lower case is
// the key), as Salesforce matches Email fields case-insensitively (reference/salesforce.md), so both
// spellings merge into one state and reach the record under one Didomi_User_Id__c. Other ids (CRM
// ids, phone numbers) keep their case: Didomi documents no rule for them.

const DIDOMI_ONLY = 'didomi:';
const EMAIL_SHAPED = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const isEmailShaped = (id: string) => EMAIL_SHAPED.test(id);

export function userKeyFor(organizationUserId: string | null | undefined, didomiUserId: string | null | undefined): string | null {
  if (organizationUserId) return isEmailShaped(organizationUserId) ? organizationUserId.toLowerCase() : organizationUserId;
  return didomiUserId ? DIDOMI_ONLY + didomiUserId : null;
}

/** False for a Didomi user the customer never identified: Salesforce cannot know who it is. */
export const hasOrganizationUserId = (userKey: string) => !userKey.startsWith(DIDOMI_ONLY);

/**
 * How Didomi's Consents API names the person behind a key: by organization_user_id, or, for a user the
 * customer never identified, by Didomi's own user id (`user.id` of a consent event; reference/didomi.md
 * "Consent user and consent event objects", https://developers.didomi.io/api-and-platform/consents/events/consent-event-schema).
 * Never the internal "didomi:" key, which Didomi would file under a new user.
 */
export function didomiUserRef(userKey: string): { organization_user_id: string } | { id: string } {
  return hasOrganizationUserId(userKey) ? { organization_user_id: userKey } : { id: userKey.slice(DIDOMI_ONLY.length) };
}
