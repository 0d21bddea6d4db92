// A Didomi_Catalogue_Entry__c row as the middleware copies it (middleware/src/sync/catalogue-sync.ts),
// for the admin tab's catalogue tests: names in each language Didomi holds, optionally the stamp of
// the refresh that last saw it.
export const catalogueEntry = (
  Kind__c: string,
  Didomi_Id__c: string,
  names: Record<string, string>,
  Preference_Id__c: string | null = null,
  seen?: string,
) => ({
  Id: `a05${Didomi_Id__c.padEnd(15, '0').slice(0, 15)}`,
  Name: names.en ?? Didomi_Id__c,
  Kind__c,
  Didomi_Id__c,
  Preference_Id__c,
  Names__c: JSON.stringify(names),
  ...(seen ? { Last_Seen_At__c: seen } : {}),
});
