// The JWT bearer assertion's `aud` default. Salesforce documents `aud` as the authorization server:
// https://login.salesforce.com, https://test.salesforce.com, or an Experience Cloud site URL, never a
// My Domain (help.salesforce.com "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration",
// xcloud.remoteaccess_oauth_jwt_flow.htm, step "Create a JWT": aud).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, defaultAudience } from '../src/config.ts';
import { requiredEnv } from './support/required-env.ts';

const env = requiredEnv;

test('SF_AUDIENCE defaults to https://test.salesforce.com for sandbox and scratch org login URLs', () => {
  for (const url of [
    'https://test.salesforce.com',
    'https://test.salesforce.com/',
    'https://acme--uat.sandbox.my.salesforce.com',
    'https://ACME--UAT.SANDBOX.MY.SALESFORCE.COM',
    'https://computing-power-1234-dev-ed.scratch.my.salesforce.com',
    'https://acme--uat.my.salesforce.com', // a sandbox My Domain without enhanced domains
    'https://acme--uat.cs42.my.salesforce.com',
  ]) {
    assert.equal(defaultAudience(url), 'https://test.salesforce.com', url);
    assert.equal(loadConfig(env({ SF_LOGIN_URL: url })).audience, 'https://test.salesforce.com', url);
  }
});

test('SF_AUDIENCE defaults to https://login.salesforce.com for production, My Domain and any other login URL', () => {
  for (const url of [
    'https://login.salesforce.com',
    'https://acme.my.salesforce.com',
    'https://acme-dev-ed.develop.my.salesforce.com',
    'https://acme.my.salesforce.com/',
    'http://127.0.0.1:8181', // the org emulator accepts what Salesforce accepts
  ]) {
    assert.equal(defaultAudience(url), 'https://login.salesforce.com', url);
    assert.equal(loadConfig(env({ SF_LOGIN_URL: url })).audience, 'https://login.salesforce.com', url);
  }
  assert.equal(loadConfig(env({})).audience, 'https://login.salesforce.com', 'no SF_LOGIN_URL at all');
});

test('an explicit SF_AUDIENCE (an Experience Cloud site) wins over the default', () => {
  const site = 'https://acme.my.site.com/customers';
  assert.equal(loadConfig(env({ SF_LOGIN_URL: 'https://acme--uat.sandbox.my.salesforce.com', SF_AUDIENCE: site })).audience, site);
});
