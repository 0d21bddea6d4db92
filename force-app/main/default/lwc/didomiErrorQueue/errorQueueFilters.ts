// The error queue's filters as UI API GraphQL `where` inputs, and which bulk actions a status allows.
// Kept free of UI code so each rule is tested on its own.

export const ALL = 'All';

export interface QueueFilters {
  // eslint-disable-next-line no-restricted-globals -- a property, not window.status
  status: string;
  code: string;
  object: string;
  /** yyyy-mm-dd from lightning-input type="date", in the admin's time zone; '' for none. */
  from: string;
  to: string;
  search: string;
}

export function noFilters(): QueueFilters {
  return { status: 'Open', code: ALL, object: ALL, from: '', to: '', search: '' };
}

/** SOQL LIKE (which the GraphQL `like` operator runs) treats % and _ as wildcards; a search is literal. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Local midnight of a yyyy-mm-dd day, as an ISO instant (the start of the day the admin sees). */
function dayStart(day: string): string | null {
  const t = new Date(`${day}T00:00:00`).getTime();
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

const and = (items: Record<string, unknown>[]) => (items.length === 0 ? {} : items.length === 1 ? items[0] : { and: items });

/** Status and object only: what the "by error code" summary counts, and what a bulk request covers. */
export function summaryWhere(f: QueueFilters): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  if (f.status !== ALL) items.push({ Status__c: { eq: f.status } });
  if (f.object !== ALL) items.push({ Target_Object__c: { eq: f.object } });
  return and(items);
}

/** Every filter: the rows listed. */
export function listWhere(f: QueueFilters): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  if (f.status !== ALL) items.push({ Status__c: { eq: f.status } });
  if (f.code !== ALL) items.push({ Error_Code__c: { eq: f.code } });
  if (f.object !== ALL) items.push({ Target_Object__c: { eq: f.object } });
  const from = f.from ? dayStart(f.from) : null;
  if (from) items.push({ Last_Failed_At__c: { gte: from } });
  const to = f.to ? dayStart(f.to) : null;
  // up to the end of the chosen day: before the next local midnight
  if (to) items.push({ Last_Failed_At__c: { lt: new Date(Date.parse(to) + 86_400_000).toISOString() } });
  const search = f.search.trim();
  if (search) {
    const like = likeContains(search);
    items.push({ or: [{ Organization_User_Id__c: { like } }, { Didomi_User_Id__c: { like } }] });
  }
  return and(items);
}

/** What a bulk request may do from a status: retry what is open or dismissed, dismiss what is open or waiting. */
export function bulkActions(status: string): { retry: boolean; dismiss: boolean } {
  return { retry: status === 'Open' || status === 'Dismissed', dismiss: status === 'Open' || status === 'Retry Requested' };
}

/** The rows of a UI API aggregate grouped by Error_Code__c, most frequent first. */
export function codeCounts(aggregate: any): { code: string; count: number }[] {
  const edges: any[] = aggregate?.edges ?? [];
  return edges
    .map((e) => ({ code: e?.node?.aggregate?.Error_Code__c?.value ?? '', count: Number(e?.node?.aggregate?.Id?.count?.value ?? 0) }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** A record page URL (Lightning Experience), for the failed record's link. */
export const recordUrl = (id: string | null | undefined) => (id ? `/lightning/r/${id}/view` : null);
