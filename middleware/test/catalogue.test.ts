// Didomi's catalogue reaches the org: the middleware reads purposes and the preferences library from
// (a stand-in of) Didomi's API, following its pages, and upserts Didomi_Catalogue_Entry__c records
// over real HTTP to the emulator, with the names in every language; unchanged, nothing is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../test/support/stack.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { startDidomiApiStub } from '../../test/support/didomi-api.ts';

const API = { key: 'didomi-api-key', secret: 'didomi-api-secret-0123456789', organizationId: 'acme-corp' };

// 120 purposes: more than two of the stand-in's 50-item pages.
const purposes = [
  { id: 'marketing-9HmMn6Vt', description: { en: 'Marketing', fr: 'Marketing direct' } },
  { id: 'newsletter', description: 'Newsletter' },
  { description: 'no id: skipped' },
  ...Array.from({ length: 117 }, (_, i) => ({ id: `p-${i}`, description: { en: `Purpose ${i}` } })),
];
const preferences = [
  {
    id: 'CFWKNVJV',
    name: { en: 'Topics', fr: 'Sujets' },
    type: 'multi',
    values: [
      { id: 'dK7rBBXk', name: { en: 'Offers', fr: 'Offres' } },
      { id: 'Qz8hNn3W', name: { en: 'Weekly digest' } },
    ],
  },
];

test('the catalogue is copied to the org with names by language, every page read, once while unchanged', async () => {
  const didomi = await startDidomiApiStub({ ...API, catalogue: { purposes, preferences } });
  const stack = await startStack({
    seed: { contact: false },
    env: {
      DIDOMI_API_URL: didomi.url,
      DIDOMI_API_KEY: API.key,
      DIDOMI_API_SECRET: API.secret,
      DIDOMI_ORGANIZATION_ID: API.organizationId,
      HEARTBEAT_MS: '200',
      CONFIG_REFRESH_MS: '200',
      CATALOGUE_REFRESH_MS: '400',
    },
  });
  try {
    const entries = () => stack.records('Didomi_Catalogue_Entry__c');
    await waitFor('the catalogue in the org', async () => (await entries()).length === 119 + 1 + 2);
    const all = await entries();
    const by = (key: string) => all.find((e) => e.Entry_Key__c === key);
    const marketing = by('Purpose||marketing-9HmMn6Vt');
    assert.equal(marketing.Name, 'Marketing');
    assert.equal(marketing.Kind__c, 'Purpose');
    assert.deepEqual(JSON.parse(marketing.Names__c), { en: 'Marketing', fr: 'Marketing direct' });
    assert.deepEqual(JSON.parse(by('Purpose||newsletter').Names__c), { en: 'Newsletter' });
    assert.ok(by('Purpose||p-116'), 'the last page was read');
    assert.equal(by('Preference||CFWKNVJV').Name, 'Topics');
    const offers = by('Preference Value|CFWKNVJV|dK7rBBXk');
    assert.deepEqual([offers.Didomi_Id__c, offers.Preference_Id__c, JSON.parse(offers.Names__c).fr], ['dK7rBBXk', 'CFWKNVJV', 'Offres']);
    assert.equal(didomi.reads['/metadata/purposes'] >= 3, true, '120 purposes in pages of 50');

    // unchanged: read again, nothing written; renamed in Didomi: the org follows
    const writes = async () =>
      ((await (await fetch(`${stack.emu.url}/__emulator/writes`)).json()) as { writes: { sobject: string }[] }).writes.filter(
        (w) => w.sobject === 'Didomi_Catalogue_Entry__c',
      ).length;
    const before = await writes();
    const reads = didomi.reads['/preferences'];
    await waitFor('another refresh', async () => didomi.reads['/preferences'] > reads + 1);
    assert.equal(await writes(), before, 'an unchanged catalogue costs no write');
    (didomi.catalogue.preferences[0].values as any[])[0].name = { en: 'Special offers', fr: 'Offres spéciales' };
    await waitFor(
      'the new name in the org',
      async () => JSON.parse(by2(await entries(), 'Preference Value|CFWKNVJV|dK7rBBXk').Names__c).en === 'Special offers',
    );
    assert.equal((await entries()).length, 122, 'upserts: no duplicate');
  } finally {
    await stack.close();
    await didomi.close();
  }
});

const by2 = (all: any[], key: string) => all.find((e) => e.Entry_Key__c === key);

test('a failed catalogue read is tried again at the configuration pace, not an hour later', async () => {
  const didomi = await startDidomiApiStub({ ...API, catalogue: { purposes: purposes.slice(0, 2), preferences: [] } });
  didomi.failNext(1); // the first read at start gets a 503
  const stack = await startStack({
    seed: { contact: false },
    env: {
      DIDOMI_API_URL: didomi.url,
      DIDOMI_API_KEY: API.key,
      DIDOMI_API_SECRET: API.secret,
      DIDOMI_ORGANIZATION_ID: API.organizationId,
      HEARTBEAT_MS: '200',
      CONFIG_REFRESH_MS: '200',
      CATALOGUE_REFRESH_MS: '3600000',
    },
  });
  try {
    await waitFor('the catalogue in the org after the failed read', async () => (await stack.records('Didomi_Catalogue_Entry__c')).length === 2);
    assert.ok(didomi.reads['/metadata/purposes'] >= 1, 'read again after the 503');
  } finally {
    await stack.close();
    await didomi.close();
  }
});
