#!/usr/bin/env node
// npm run emulator -- --port 8181 --consumer-key KEY --certificate keys/server.crt --username integration@example.com
import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import { startEmulator, DEFAULT_API_VERSIONS } from '../index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8181' },
    'pubsub-port': { type: 'string', default: '7443' },
    host: { type: 'string', default: '127.0.0.1' },
    'consumer-key': { type: 'string', default: 'DEV_CONSUMER_KEY' },
    certificate: { type: 'string', default: 'keys/server.crt' },
    'public-key': { type: 'string' },
    username: { type: 'string', default: 'integration@example.com' },
    'session-seconds': { type: 'string', default: '7200' },
    'daily-api-limit': { type: 'string', default: '15000' },
    'api-version': { type: 'string', multiple: true },
    data: { type: 'string' },
    'extra-fields': { type: 'string' },
    'extra-permission-sets': { type: 'string' },
    'permission-set': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`sf-org-emulator: a local stand-in for the Salesforce APIs Didomi Consent Sync uses
  --port 8181  --pubsub-port 7443 (Pub/Sub API, gRPC plaintext; 0: none)  --host 127.0.0.1  --consumer-key KEY  --certificate keys/server.crt | --public-key FILE
  --username integration@example.com  --session-seconds 7200  --daily-api-limit 15000
  --api-version 66.0 (repeatable)  --data FILE (load at start, save on exit)  --extra-fields FILE (JSON)
  --extra-permission-sets FILE (JSON: {"Name": {"Lead.DoNotCall": "edit"}})  --permission-set NAME (repeatable; default Didomi_Sync_Integration)`);
  process.exit(0);
}
const keyFile = values['public-key'] ?? values.certificate!;
if (!existsSync(keyFile)) {
  console.error(
    `sf-org-emulator: ${keyFile} not found. Generate a key pair and certificate with scripts/generate-jwt-keys.sh, or pass --certificate / --public-key.`,
  );
  process.exit(2);
}
const emu = await startEmulator({
  port: Number(values.port),
  host: values.host,
  consumerKey: values['consumer-key'],
  certificate: readFileSync(keyFile, 'utf8'),
  username: values.username,
  sessionSeconds: Number(values['session-seconds']),
  dailyApiLimit: Number(values['daily-api-limit']),
  apiVersions: values['api-version'] ?? DEFAULT_API_VERSIONS,
  dataFile: values.data,
  extraFields: values['extra-fields'] ? JSON.parse(readFileSync(values['extra-fields'], 'utf8')) : undefined,
  extraPermissionSets: values['extra-permission-sets'] ? JSON.parse(readFileSync(values['extra-permission-sets'], 'utf8')) : undefined,
  permissionSets: values['permission-set'],
  pubsub: values['pubsub-port'] === '0' ? false : { port: Number(values['pubsub-port']) },
});
console.log(`Salesforce org emulator listening on ${emu.url} (token endpoint ${emu.url}/services/oauth2/token, control API ${emu.url}/__emulator/stats)`);
if (emu.pubsub) console.log(`Pub/Sub API (change events of Lead, Contact, Account) on ${emu.pubsub.url}: the middleware's PUBSUB_URL`);
const stop = async () => {
  await emu.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
